// Retry or give up: the one table that turns an error code into what the work queue does with a key
// that failed (virtual-kubelet's ShouldRetryFunc and MaxRetries). An error that no retry can fix (the
// input is wrong) is given up at once; anything else is retried with capped back-off, at most
// maxRetries times in a row. A key given up is not lost: the next change of its pod or pod VM, or the
// slow resync, brings it back.
import { Backoff, type BackoffOptions } from '../../shared/backoff.js';
import { findVicError, type ErrorCode } from '../../shared/errors.js';

/** Codes that say the input is wrong: trying again gives the same answer. */
const permanent: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['Invalid', 'InvalidImageName']);

export type RetryDecision =
  | { readonly kind: 'retry'; readonly afterMs: number; readonly attempt: number }
  | { readonly kind: 'give-up'; readonly why: 'permanent' | 'max-retries'; readonly attempts: number };

export interface RetryPolicyOptions {
  /** Failures in a row after which a key is given up (until something changes). */
  maxRetries?: number;
  backoff?: BackoffOptions;
}

export class RetryPolicy {
  readonly #maxRetries: number;
  readonly #backoffOptions: BackoffOptions;
  readonly #failing = new Map<string, Backoff>();

  constructor(options: RetryPolicyOptions = {}) {
    this.#maxRetries = options.maxRetries ?? 15;
    this.#backoffOptions = options.backoff ?? { initialMs: 200, maxMs: 30_000 };
  }

  /** What to do with `key` after `err`; counts the failure. */
  decide(key: string, err: unknown): RetryDecision {
    let backoff = this.#failing.get(key);
    if (!backoff) {
      backoff = new Backoff(this.#backoffOptions);
      this.#failing.set(key, backoff);
    }
    const code = findVicError(err)?.code;
    if (code !== undefined && permanent.has(code)) {
      this.#failing.delete(key);
      return { kind: 'give-up', why: 'permanent', attempts: backoff.attempts + 1 };
    }
    if (backoff.attempts >= this.#maxRetries) {
      this.#failing.delete(key);
      return { kind: 'give-up', why: 'max-retries', attempts: backoff.attempts + 1 };
    }
    const afterMs = backoff.next();
    return { kind: 'retry', afterMs, attempt: backoff.attempts };
  }

  /** The key succeeded (or is gone): its next failure starts a fresh back-off. */
  forget(key: string): void {
    this.#failing.delete(key);
  }
}
