// The kubelet's one back-off curve, for a crashing container and for a failing image pull alike:
// 10 s, doubling, capped at 5 min (pkg/kubelet/kubelet.go: backOffPeriod and MaxContainerBackOff,
// both fed to one flowcontrol.Backoff shape). A container that ran 10 min starts a new series.
export const initialBackoffMs = 10_000;
export const maxBackoffMs = 300_000;
/** A container that ran this long before it stopped starts its crash back-off afresh. */
export const backoffResetMs = 600_000;

/** The wait after the n-th failure in a row (n >= 1): 10 s, 20 s, 40 s ... 5 min. */
export function backoffDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(initialBackoffMs * 2 ** (failures - 1), maxBackoffMs);
}
