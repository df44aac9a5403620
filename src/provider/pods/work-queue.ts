// A keyed work queue in the manner of client-go's: a key waits at most once (bursts coalesce), is
// handled by one worker at a time, and a key added while it is being handled runs again afterwards.
// Delayed adds are how retries and back-off are expressed: nothing here ever sleeps.
import { systemClock, type Clock } from '../../shared/clock.js';

export type Handler = (key: string) => Promise<void>;

export class WorkQueue {
  readonly #clock: Clock;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; cancel(): void }>();
  readonly #waiters: Array<() => void> = [];
  #shutDown = false;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#waiters.shift()?.();
  }

  /** Adds the key after ms; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    this.#timers.set(key, { at, cancel: () => timer.cancel() });
  }

  get length(): number {
    return this.#queue.length;
  }

  /** Runs `workers` loops that take keys and call handler until shutDown. */
  async run(handler: Handler, workers = 1): Promise<void> {
    await Promise.all(Array.from({ length: workers }, () => this.#worker(handler)));
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async #worker(handler: Handler): Promise<void> {
    for (;;) {
      const key = await this.#take();
      if (key === undefined) return;
      try {
        await handler(key);
      } finally {
        this.#processing.delete(key);
        if (this.#dirty.delete(key)) this.add(key);
      }
    }
  }

  async #take(): Promise<string | undefined> {
    while (this.#queue.length === 0) {
      if (this.#shutDown) return undefined;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#shutDown) return undefined;
    const key = this.#queue.shift() as string;
    this.#queued.delete(key);
    this.#processing.add(key);
    return key;
  }
}
