// A container's environment as the kubelet builds it: envFrom, then env in order, with values,
// downward-API field and resource references, ConfigMap and Secret keys, and $(VAR) expansion.
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { VicError } from '../../shared/errors.js';
import { expandReferences } from '../../vch/container-config.js';
import type { EnvVar } from '../../vch/types.js';
import { parseMilliCpu, parseQuantity } from '../resources/quantity.js';
import { decodeSecretValue, missing, type ConfigSources } from './config-sources.js';

export interface EnvContext {
  pod: V1Pod;
  podIP?: string;
  hostIP: string;
  /** Node allocatable, the default for a resourceFieldRef to an unset limit. */
  nodeAllocatable: { milliCpu: number; memoryBytes: number };
  sources: ConfigSources;
}

function fieldValue(path: string, ctx: EnvContext): string {
  const meta = ctx.pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return ctx.pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return ctx.pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP ?? '';
    default:
      throw new VicError('Invalid', `unsupported fieldRef.fieldPath "${path}"`);
  }
}

function resourceValue(
  container: V1Container,
  resource: string,
  divisor: string | undefined,
  ctx: EnvContext,
): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const list = container.resources?.[kind];
  if (name === 'cpu') {
    const milli = list?.cpu ? parseMilliCpu(list.cpu) : kind === 'limits' ? ctx.nodeAllocatable.milliCpu : 0;
    const div = divisor ? parseMilliCpu(divisor) : 1000;
    return String(Math.ceil(milli / div));
  }
  if (name === 'memory' || name === 'ephemeral-storage') {
    const bytes = list?.[name]
      ? parseQuantity(list[name])
      : kind === 'limits'
        ? ctx.nodeAllocatable.memoryBytes
        : 0;
    const div = divisor ? parseQuantity(divisor) : 1;
    return String(Math.ceil(bytes / div));
  }
  throw new VicError('Invalid', `unsupported resourceFieldRef.resource "${resource}"`);
}

async function valueOf(
  env: V1EnvVar,
  container: V1Container,
  ctx: EnvContext,
  known: Map<string, string>,
): Promise<string | undefined> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const from = env.valueFrom;
  if (!from) return expandReferences(env.value ?? '', known);
  if (from.fieldRef) return fieldValue(from.fieldRef.fieldPath, ctx);
  if (from.resourceFieldRef) {
    const ref = from.resourceFieldRef;
    const target = ref.containerName ? findContainer(ctx.pod, ref.containerName) : container;
    return resourceValue(target ?? container, ref.resource, ref.divisor, ctx);
  }
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const cm = await ctx.sources.configMap(namespace, ref.name ?? '');
    const value =
      cm?.data?.[ref.key] ??
      (cm?.binaryData?.[ref.key]
        ? Buffer.from(cm.binaryData[ref.key] ?? '', 'base64').toString()
        : undefined);
    if (value !== undefined) return value;
    if (ref.optional) return undefined;
    if (!cm) throw missing('configmap', ref.name ?? '');
    throw new VicError('Invalid', `couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}`);
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const secret = await ctx.sources.secret(namespace, ref.name ?? '');
    const value = secret ? decodeSecretValue(secret, ref.key) : undefined;
    if (value !== undefined) return value;
    if (ref.optional) return undefined;
    if (!secret) throw missing('secret', ref.name ?? '');
    throw new VicError('Invalid', `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`);
  }
  return undefined;
}

function findContainer(pod: V1Pod, name: string): V1Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
}

/** The resolved environment of one container; throws VicError('Invalid') for a missing reference. */
export async function containerEnv(container: V1Container, ctx: EnvContext): Promise<EnvVar[]> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const values = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) {
      const cm = await ctx.sources.configMap(namespace, source.configMapRef.name ?? '');
      if (!cm && !source.configMapRef.optional) throw missing('configmap', source.configMapRef.name ?? '');
      for (const [k, v] of Object.entries(cm?.data ?? {})) values.set(prefix + k, v);
    }
    if (source.secretRef) {
      const secret = await ctx.sources.secret(namespace, source.secretRef.name ?? '');
      if (!secret && !source.secretRef.optional) throw missing('secret', source.secretRef.name ?? '');
      for (const k of Object.keys(secret?.data ?? {}))
        values.set(prefix + k, decodeSecretValue(secret!, k) ?? '');
    }
  }
  for (const env of container.env ?? []) {
    const value = await valueOf(env, container, ctx, values);
    if (value !== undefined) values.set(env.name, value);
  }
  return [...values].map(([name, value]) => ({ name, value }));
}
