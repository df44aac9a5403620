// Whether a freshly built PodStatus differs from the one the API server holds. Times are compared at
// the API server's precision (seconds), and an empty object or list as the field left out (the API
// server omits them: a `lastState: {}` we write reads back as nothing), or every pass would patch
// and wake itself up again.
import type { V1PodStatus } from '@kubernetes/client-node';

function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/\.\d+Z$/, 'Z');
  if (Array.isArray(value)) return value.length ? value.map(normalize) : undefined;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = normalize((value as Record<string, unknown>)[key]);
      if (v !== undefined && v !== null) out[key] = v;
    }
    return Object.keys(out).length ? out : undefined;
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

/** The paths (`conditions.1.lastTransitionTime`) where the desired status differs, for the log. */
export function changedPaths(current: V1PodStatus | undefined, desired: V1PodStatus, max = 10): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (out.length >= max) return;
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of keys)
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path || '.');
  };
  for (const key of Object.keys(desired) as Array<keyof V1PodStatus>)
    walk(normalize(current?.[key]), normalize(desired[key]), key);
  return out;
}
