// Capped exponential back-off with jitter, shared by every retry loop so none of them piles up.
import type { Clock } from './clock.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  jitter?: number;
}

export class Backoff {
  #attempt = 0;
  readonly #options: Required<BackoffOptions>;

  constructor(options: BackoffOptions) {
    this.#options = { factor: 2, jitter: 0.1, ...options };
  }

  /** The delay before the next try; each call grows it until maxMs. */
  next(): number {
    const { initialMs, maxMs, factor, jitter } = this.#options;
    const base = Math.min(maxMs, initialMs * factor ** this.#attempt);
    this.#attempt += 1;
    return Math.round(base * (1 + jitter * (Math.random() * 2 - 1)));
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}

/** Resolves after ms (on `clock` when given), or at once when the signal aborts. Never rejects. */
export function delay(ms: number, signal?: AbortSignal, clock?: Clock): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = clock ? clock.setTimeout(done, ms) : setTimeout(done, ms);
    function done() {
      if (clock) (timer as { cancel(): void }).cancel();
      else clearTimeout(timer as NodeJS.Timeout);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
