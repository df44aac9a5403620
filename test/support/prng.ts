// A seeded pseudo-random source for fault tests (mulberry32): a failing run is replayed by its seed,
// which the test prints. VK_FAULTS_SEED picks the seed; otherwise a random one.
import { randomInt } from 'node:crypto';

export interface Prng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)]!;
    },
  };
}

/** The seed from VK_FAULTS_SEED, or a fresh one. */
export function faultSeed(): number {
  const given = process.env.VK_FAULTS_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed)) throw new Error(`VK_FAULTS_SEED=${given} is not an integer`);
    return seed;
  }
  return randomInt(0, 2 ** 31);
}

/** True when the long variants of the fault suite should run (VK_FAULTS_LONG=1). */
export const faultsLong = process.env.VK_FAULTS_LONG === '1';
