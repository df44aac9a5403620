// Summaries of a list of timings: nearest-rank percentiles, the median, and a ratio that says "n/a"
// rather than dividing by nothing.

/** The p-th percentile (0-100) by nearest rank: a value that was really measured, never interpolated. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** ours / floor, or NaN when there is no floor to compare with. */
export function ratio(ours: number, floor: number | undefined): number {
  if (floor === undefined || !Number.isFinite(floor) || floor <= 0) return Number.NaN;
  return ours / floor;
}
