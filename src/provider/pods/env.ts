// A container's environment as the kubelet builds it (pkg/kubelet/kubelet_pods.go
// makeEnvironmentVariables): envFrom first (later sources win), then env in order, where a value
// expands $(VAR) references to the variables defined so far and the service variables, and a
// valueFrom reads a pod field, a resource, a ConfigMap key or a Secret key; then the service link
// variables not already set.
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { VicError } from '../../shared/errors.js';
import type { EnvVar } from '../../vch/types.js';
import { decodeSecretValue, missing, type ConfigSources } from './config-sources.js';
import { envFieldValue, findContainer, resourceValue, type DownwardContext } from './downward-api.js';
import { serviceEnv, type ServiceSources } from './service-env.js';

export interface EnvContext extends DownwardContext {
  sources: ConfigSources;
  services: ServiceSources;
}

/**
 * Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): a defined variable is
 * replaced, `$$` is a literal `$`, an undefined name or an unclosed reference stays as written.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += lookup(name) ?? `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

async function configMapKey(
  ref: { name?: string; key: string; optional?: boolean },
  ctx: EnvContext,
): Promise<string | undefined> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const name = ref.name ?? '';
  const cm = await ctx.sources.configMap(namespace, name);
  if (!cm) {
    if (ref.optional) return undefined;
    throw missing('configmap', name);
  }
  const value = cm.data?.[ref.key];
  if (value !== undefined) return value;
  if (ref.optional) return undefined;
  throw new VicError('Invalid', `couldn't find key ${ref.key} in ConfigMap ${namespace}/${name}`);
}

async function secretKey(
  ref: { name?: string; key: string; optional?: boolean },
  ctx: EnvContext,
): Promise<string | undefined> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const name = ref.name ?? '';
  const secret = await ctx.sources.secret(namespace, name);
  if (!secret) {
    if (ref.optional) return undefined;
    throw missing('secret', name);
  }
  const value = decodeSecretValue(secret, ref.key);
  if (value !== undefined) return value;
  if (ref.optional) return undefined;
  throw new VicError('Invalid', `couldn't find key ${ref.key} in Secret ${namespace}/${name}`);
}

/** One env entry's value; undefined when an optional reference is missing (the variable is not set). */
async function valueOf(
  env: V1EnvVar,
  container: V1Container,
  ctx: EnvContext,
  lookup: (name: string) => string | undefined,
): Promise<string | undefined> {
  if (env.value) return expand(env.value, lookup);
  const from = env.valueFrom;
  if (!from) return '';
  if (from.fieldRef) return envFieldValue(from.fieldRef.fieldPath, ctx);
  if (from.resourceFieldRef) {
    const ref = from.resourceFieldRef;
    const target = ref.containerName ? findContainer(ctx.pod, ref.containerName) : container;
    if (!target) throw new VicError('Invalid', `container ${ref.containerName} not found in the pod`);
    return resourceValue(target, ref.resource, ref.divisor, ctx);
  }
  if (from.configMapKeyRef) return configMapKey(from.configMapKeyRef, ctx);
  if (from.secretKeyRef) return secretKey(from.secretKeyRef, ctx);
  return '';
}

/**
 * The resolved environment of one container. A missing required reference throws
 * VicError('Invalid') with the kubelet's message (CreateContainerConfigError).
 *
 * Keys of an envFrom source are not filtered: with RelaxedEnvironmentVariableValidation (GA) the
 * kubelet passes every key on, and ConfigMap/Secret keys cannot hold the one character ('=') an
 * environment name cannot.
 */
export async function containerEnv(container: V1Container, ctx: EnvContext): Promise<EnvVar[]> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const services = await serviceEnv(ctx.pod, ctx.services);
  const values = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) {
      const name = source.configMapRef.name ?? '';
      const cm = await ctx.sources.configMap(namespace, name);
      if (!cm) {
        if (source.configMapRef.optional) continue;
        throw missing('configmap', name);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) values.set(prefix + k, v);
    } else if (source.secretRef) {
      const name = source.secretRef.name ?? '';
      const secret = await ctx.sources.secret(namespace, name);
      if (!secret) {
        if (source.secretRef.optional) continue;
        throw missing('secret', name);
      }
      for (const k of Object.keys(secret.data ?? {}))
        values.set(prefix + k, decodeSecretValue(secret, k) ?? '');
    }
  }
  const lookup = (name: string) => values.get(name) ?? services.get(name);
  for (const env of container.env ?? []) {
    const value = await valueOf(env, container, ctx, lookup);
    if (value !== undefined) values.set(env.name, value);
  }
  for (const [k, v] of services) if (!values.has(k)) values.set(k, v);
  return [...values].map(([name, value]) => ({ name, value }));
}
