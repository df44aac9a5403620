// The safety net of every way of following the VCH's containers (the event stream, or lists): a full
// resync every interval, and at once when the follower knows it may have missed something. A resync
// never throws into its caller; a failure is logged and the next one tries again.
import type { Clock } from '../shared/clock.js';
import { messageOf } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export class PeriodicResync {
  readonly #onResync: (() => void | Promise<void>) | undefined;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #timer: { cancel(): void } | undefined;

  constructor(options: {
    onResync?: (() => void | Promise<void>) | undefined;
    intervalMs?: number | undefined;
    clock: Clock;
    logger: Logger;
  }) {
    this.#onResync = options.onResync;
    this.#intervalMs = options.intervalMs ?? 5 * 60_000;
    this.#clock = options.clock;
    this.#log = options.logger;
  }

  start(): void {
    if (!this.#onResync) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.now();
      this.start();
    }, this.#intervalMs);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** One resync now, in the background. */
  now(): void {
    const onResync = this.#onResync;
    if (!onResync) return;
    Promise.resolve()
      .then(onResync)
      .catch((err: unknown) => this.#log.error({ err: messageOf(err) }, 'resync failed'));
  }
}
