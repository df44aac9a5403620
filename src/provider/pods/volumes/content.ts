// The files of a content volume (configMap, secret, downwardAPI, projected) as the kubelet's volume
// plugins compute their payload (pkg/volume/configmap, secret, downwardapi, projected): keys or
// items, modes, optional sources, tokens. Writing them is src/vch's job (atomically).
import type {
  V1ConfigMap,
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1Pod,
  V1Secret,
  V1Volume,
  V1VolumeProjection,
} from '@kubernetes/client-node';
import { VicError } from '../../../shared/errors.js';
import type { VolumeFile } from '../../../vch/types.js';
import { missing, type ConfigSources } from '../config-sources.js';
import { findContainer, metadataValue, resourceValue, type DownwardContext } from '../downward-api.js';
import type { TokenSource } from './tokens.js';

export const defaultFileMode = 0o644;
// The kubelet's default for a projected serviceAccountToken (pkg/apis/core/v1/defaults.go).
const defaultTokenExpirationSeconds = 3600;

export interface ContentContext extends DownwardContext {
  sources: ConfigSources;
  tokens: TokenSource;
  /** securityContext.fsGroup: files get the group and group read (the kubelet's read-only mask). */
  fsGroup?: number;
}

type Payload = Map<string, VolumeFile>;

function put(payload: Payload, path: string, data: Buffer, mode: number): void {
  payload.set(path, { path, data, mode });
}

function configMapValue(cm: V1ConfigMap, key: string): Buffer | undefined {
  const text = cm.data?.[key];
  if (text !== undefined) return Buffer.from(text, 'utf8');
  const binary = cm.binaryData?.[key];
  return binary !== undefined ? Buffer.from(binary, 'base64') : undefined;
}

function secretValue(secret: V1Secret, key: string): Buffer | undefined {
  const encoded = secret.data?.[key];
  return encoded !== undefined ? Buffer.from(encoded, 'base64') : undefined;
}

/** Keys (all, or the listed items) of a ConfigMap or Secret into the payload. */
function keysInto(options: {
  payload: Payload;
  keys: string[];
  value: (key: string) => Buffer | undefined;
  items: V1KeyToPath[] | undefined;
  mode: number;
  optional: boolean;
  kind: 'configmap' | 'secret';
}): void {
  const { payload, items, mode } = options;
  if (!items?.length) {
    for (const key of options.keys) put(payload, key, options.value(key) ?? Buffer.alloc(0), mode);
    return;
  }
  for (const item of items) {
    const data = options.value(item.key);
    if (data === undefined) {
      if (options.optional) continue;
      throw new VicError(
        'Invalid',
        `${options.kind} references non-existent ${options.kind === 'configmap' ? 'config' : 'secret'} key: ${item.key}`,
      );
    }
    put(payload, item.path, data, item.mode ?? mode);
  }
}

/** The keys of a configMap or secret and how to read each, whichever of the two it is. */
async function keySource(
  kind: 'configmap' | 'secret',
  namespace: string,
  name: string,
  sources: ConfigSources,
): Promise<{ keys: string[]; value: (key: string) => Buffer | undefined } | undefined> {
  if (kind === 'configmap') {
    const cm = await sources.configMap(namespace, name);
    return (
      cm && {
        keys: [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})],
        value: (k) => configMapValue(cm, k),
      }
    );
  }
  const secret = await sources.secret(namespace, name);
  return secret && { keys: Object.keys(secret.data ?? {}), value: (k) => secretValue(secret, k) };
}

/** A configMap's or secret's keys into the payload, as the source's items and modes say. */
async function keysSourceInto(
  payload: Payload,
  from: {
    kind: 'configmap' | 'secret';
    source: { name?: string; items?: V1KeyToPath[]; optional?: boolean };
    mode: number;
  },
  ctx: ContentContext,
): Promise<void> {
  const { kind, source, mode } = from;
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const found = await keySource(kind, namespace, source.name ?? '', ctx.sources);
  if (!found) {
    if (source.optional) return;
    throw missing(kind, source.name ?? '');
  }
  keysInto({
    payload,
    ...found,
    items: source.items,
    mode,
    optional: source.optional ?? false,
    kind,
  });
}

function downwardInto(
  payload: Payload,
  items: V1DownwardAPIVolumeFile[],
  mode: number,
  ctx: ContentContext,
): void {
  for (const item of items) {
    let value: string;
    if (item.fieldRef) value = metadataValue(item.fieldRef.fieldPath, ctx.pod);
    else if (item.resourceFieldRef) {
      const ref = item.resourceFieldRef;
      const container = findContainer(ctx.pod, ref.containerName ?? '');
      if (!container) throw new VicError('Invalid', `container ${ref.containerName} not found in the pod`);
      value = resourceValue(container, ref.resource, ref.divisor, ctx);
    } else continue;
    put(payload, item.path, Buffer.from(value, 'utf8'), item.mode ?? mode);
  }
}

async function projectionInto(
  payload: Payload,
  source: V1VolumeProjection,
  mode: number,
  ctx: ContentContext,
): Promise<void> {
  if (source.configMap)
    await keysSourceInto(payload, { kind: 'configmap', source: source.configMap, mode }, ctx);
  if (source.secret) await keysSourceInto(payload, { kind: 'secret', source: source.secret, mode }, ctx);
  if (source.downwardAPI) downwardInto(payload, source.downwardAPI.items ?? [], mode, ctx);
  if (source.serviceAccountToken) {
    const t = source.serviceAccountToken;
    const token = await ctx.tokens.token(ctx.pod, {
      ...(t.audience ? { audience: t.audience } : {}),
      expirationSeconds: t.expirationSeconds ?? defaultTokenExpirationSeconds,
    });
    put(payload, t.path, Buffer.from(token, 'utf8'), mode);
  }
}

/** Whether the volume's content comes from the API (and so is written, and refreshed, by us). */
export function isContentVolume(v: V1Volume): boolean {
  return Boolean(v.configMap ?? v.secret ?? v.downwardAPI ?? v.projected);
}

/** The files of a content volume; throws VicError('Invalid') for a missing required source. */
export async function volumeFiles(volume: V1Volume, ctx: ContentContext): Promise<VolumeFile[]> {
  const payload: Payload = new Map();
  if (volume.configMap) {
    await keysSourceInto(
      payload,
      { kind: 'configmap', source: volume.configMap, mode: volume.configMap.defaultMode ?? defaultFileMode },
      ctx,
    );
  } else if (volume.secret) {
    const s = volume.secret;
    const source = { ...s, name: s.secretName ?? '' };
    await keysSourceInto(payload, { kind: 'secret', source, mode: s.defaultMode ?? defaultFileMode }, ctx);
  } else if (volume.downwardAPI) {
    downwardInto(
      payload,
      volume.downwardAPI.items ?? [],
      volume.downwardAPI.defaultMode ?? defaultFileMode,
      ctx,
    );
  } else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? defaultFileMode;
    for (const source of volume.projected.sources ?? []) await projectionInto(payload, source, mode, ctx);
  }
  return [...payload.values()].map((f) => (ctx.fsGroup !== undefined ? { ...f, mode: f.mode | 0o440 } : f));
}

/** The group that owns a pod's volume files (securityContext.fsGroup). */
export function fsGroupOf(pod: V1Pod): number | undefined {
  return pod.spec?.securityContext?.fsGroup ?? undefined;
}
