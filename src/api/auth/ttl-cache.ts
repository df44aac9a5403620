// A small expiring cache for review decisions, with one in-flight lookup per key so that a burst of
// requests with the same credentials costs the API server one review, not one each.
import type { Clock } from '../../shared/clock.js';

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<V>>();
  readonly #clock: Clock;
  readonly #maxEntries: number;

  constructor(options: { clock: Clock; maxEntries?: number }) {
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries ?? 4096;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.#entries.size >= this.#maxEntries) this.#evict();
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs });
  }

  /**
   * The cached value, or the result of `load` cached for `ttlOf(value)`. A failed load is not cached:
   * the next request asks again.
   */
  async getOrLoad(key: string, load: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const loading = (async () => {
      try {
        const value = await load();
        this.set(key, value, ttlOf(value));
        return value;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, loading);
    return loading;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries, then the oldest ones, so the cache stays bounded under many distinct users. */
  #evict(): void {
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
