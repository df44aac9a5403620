// The downward API: a pod's own fields and its containers' resources as strings, as the kubelet
// renders them for env (pkg/kubelet/kubelet_pods.go podFieldSelectorRuntimeValue) and for
// downwardAPI volume files (pkg/volume/downwardapi, pkg/fieldpath).
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { VicError } from '../../shared/errors.js';
import { parseMilliCpu, parseQuantity } from '../resources/quantity.js';

export interface DownwardContext {
  pod: V1Pod;
  podIPs?: string[];
  hostIPs: string[];
  /** Node allocatable, the default of a resourceFieldRef to a limit the container does not set. */
  nodeAllocatable: { milliCpu: number; memoryBytes: number; ephemeralStorageBytes?: number };
}

/** `k="v"` lines sorted by key, as pkg/fieldpath FormatMap writes labels and annotations. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map?.[k] ?? '')}`)
    .join('\n');
}

/** A metadata field path, as a downwardAPI volume file supports them (whole labels/annotations too). */
export function metadataValue(path: string, pod: V1Pod): string {
  const meta = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    default:
      throw new VicError('Invalid', `unsupported fieldRef.fieldPath "${path}"`);
  }
}

/** A field path as env supports them: metadata and the pod's spec and status fields. */
export function envFieldValue(path: string, ctx: DownwardContext): string {
  switch (path) {
    case 'spec.nodeName':
      return ctx.pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return ctx.pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return ctx.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return ctx.hostIPs.join(',');
    case 'status.podIP':
      return ctx.podIPs?.[0] ?? '';
    case 'status.podIPs':
      return (ctx.podIPs ?? []).join(',');
    case 'metadata.labels':
    case 'metadata.annotations':
      // Whole maps are for volume files only; the API server refuses them in env.
      throw new VicError('Invalid', `unsupported fieldRef.fieldPath "${path}" in env`);
    default:
      return metadataValue(path, ctx.pod);
  }
}

export function findContainer(pod: V1Pod, name: string): V1Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
}

/**
 * A resourceFieldRef as the kubelet renders it (pkg/api/v1/resource ExtractContainerResourceValue):
 * the value divided by the divisor, rounded up; an unset limit is the node's allocatable.
 */
export function resourceValue(
  container: V1Container,
  resource: string,
  divisor: string | undefined,
  ctx: DownwardContext,
): string {
  const [kind, name] = resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name) {
    throw new VicError('Invalid', `unsupported resourceFieldRef.resource "${resource}"`);
  }
  const list = container.resources?.[kind];
  const allocatable = ctx.nodeAllocatable;
  if (name === 'cpu') {
    const set = list?.cpu ? parseMilliCpu(list.cpu) : undefined;
    const milli = set ?? (kind === 'limits' ? allocatable.milliCpu : 0);
    // The API server writes an unset divisor as "0": that means 1 (one core).
    const div = (divisor ? parseMilliCpu(divisor) : 0) || 1000;
    return String(Math.ceil(milli / div));
  }
  if (name === 'memory' || name === 'ephemeral-storage') {
    const set = list?.[name] ? parseQuantity(list[name]) : undefined;
    const nodeValue = name === 'memory' ? allocatable.memoryBytes : (allocatable.ephemeralStorageBytes ?? 0);
    const bytes = set ?? (kind === 'limits' ? nodeValue : 0);
    const div = (divisor ? parseQuantity(divisor) : 0) || 1;
    return String(Math.ceil(bytes / div));
  }
  throw new VicError('Invalid', `unsupported resourceFieldRef.resource "${resource}"`);
}
