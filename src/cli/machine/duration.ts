// Durations as the original vic-machine takes them (Go's time.ParseDuration): "3m0s", "90s", "1h".
import { VicError } from '../../shared/errors.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, flag = '--timeout'): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new VicError('Invalid', `${flag}: "${text}" is not a duration like 3m0s, 90s or 1h`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] ?? 's'] ?? 0), 0);
}
