// Kubernetes resource quantities ("500m", "1.5Gi", "2e3") as plain numbers, and back.
// Numbers are exact enough here: bytes stay below 2^53 (8 PiB) and CPU is counted in millicores.
import { VicError } from '../../shared/errors.js';

const suffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const pattern = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The value of a quantity in its base unit (cores for cpu, bytes for memory, a count for pods). */
export function parseQuantity(text: string): number {
  const match = pattern.exec(text.trim());
  if (!match)
    throw new VicError('Invalid', `"${text}" is not a Kubernetes quantity (examples: 500m, 2, 1.5Gi)`);
  const [, digits = '0', exponent, suffix = ''] = match;
  const value = Number(digits) * (exponent ? 10 ** Number(exponent.slice(1)) : (suffixes[suffix] ?? 1));
  return value;
}

/** Millicores of a cpu quantity, rounded up as the kubelet does. */
export function parseMilliCpu(text: string): number {
  return Math.ceil(parseQuantity(text) * 1000 - 1e-9);
}

export function formatMilliCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes in the largest binary suffix that divides them exactly, as the API server would print. */
export function formatBytes(bytes: number): string {
  const whole = Math.max(0, Math.floor(bytes));
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const unit = suffixes[suffix] ?? 1;
    if (whole >= unit && whole % unit === 0) return `${whole / unit}${suffix}`;
  }
  return String(whole);
}
