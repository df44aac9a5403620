// One timer for every probe of the node: a min-heap of due times, and a single clock timer armed for
// the earliest. Hundreds of probed containers cost one timer, not one setInterval each.
import type { Clock } from '../../../shared/clock.js';

interface Entry {
  atMs: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export interface Scheduled {
  cancel(): void;
}

export class ProbeScheduler {
  readonly #clock: Clock;
  readonly #heap: Entry[] = [];
  #timer: { cancel(): void; atMs: number } | undefined;
  #seq = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Runs `run` at `atMs` (clock time), or as soon as possible when that has passed. */
  at(atMs: number, run: () => void): Scheduled {
    const entry: Entry = { atMs, seq: this.#seq++, run, cancelled: false };
    this.#push(entry);
    this.#arm();
    return { cancel: () => (entry.cancelled = true) };
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#heap.length = 0;
  }

  #arm(): void {
    while (this.#heap[0]?.cancelled) this.#pop();
    const first = this.#heap[0];
    if (!first) {
      this.#timer?.cancel();
      this.#timer = undefined;
      return;
    }
    if (this.#timer && this.#timer.atMs <= first.atMs) return;
    this.#timer?.cancel();
    const delay = Math.max(0, first.atMs - this.#clock.now());
    const handle = this.#clock.setTimeout(() => this.#fire(), delay);
    this.#timer = { cancel: () => handle.cancel(), atMs: first.atMs };
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    const due: Entry[] = [];
    while (this.#heap[0] && this.#heap[0].atMs <= now) {
      const e = this.#pop();
      if (e && !e.cancelled) due.push(e);
    }
    for (const e of due) e.run();
    this.#arm();
  }

  #less(a: Entry, b: Entry): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
