// Whether a freshly built PodStatus differs from the one the API server holds. Times are compared at
// the API server's precision (seconds), or every pass would patch and wake itself up again.
import type { V1PodStatus } from '@kubernetes/client-node';

function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/\.\d+Z$/, 'Z');
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = normalize((value as Record<string, unknown>)[key]);
      if (v !== undefined && v !== null) out[key] = v;
    }
    return out;
  }
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) {
    return value.replace(/\.\d+Z$/, 'Z');
  }
  return value;
}

/** Compares only the fields vic-kubelet writes; others (nominatedNodeName, resize) belong to others. */
export function statusChanged(current: V1PodStatus | undefined, desired: V1PodStatus): boolean {
  const pick = (s: V1PodStatus | undefined) => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(desired) as Array<keyof V1PodStatus>) out[key] = s?.[key];
    return out;
  };
  return JSON.stringify(normalize(pick(current))) !== JSON.stringify(normalize(pick(desired)));
}
