// The share of the VCH that exec probes may take: at most `limit` execs at once, the rest waiting in
// arrival order. An exec costs the engine far more than it costs vic-kubelet (a `runc exec` per
// probe: tens of milliseconds of engine CPU, measured in bench/probes.ts), so when probes fall
// behind they wait here and run late, and the engine keeps room for the pod status and volume work
// that the node's own health depends on. Each probe worker has at most one probe queued, so the
// queue is never longer than the number of exec probes.

export class ExecBudget {
  readonly limit: number;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`an exec budget needs at least 1 slot, got ${limit}`);
    this.limit = limit;
  }

  /** Execs running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Execs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `work` once a slot is free; `started` is told when that is (how late the probe runs). */
  async run<T>(work: () => Promise<T>, started?: () => void): Promise<T> {
    if (this.#inFlight >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#inFlight += 1;
    started?.();
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next in line, so a newcomer cannot jump the queue.
      if (next) next();
      else this.#inFlight -= 1;
    }
  }
}
