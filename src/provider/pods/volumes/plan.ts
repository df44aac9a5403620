// Which pod volumes become which VCH volumes, how containers mount them, and which volume fields a
// pod VM cannot honour (refused at admission, naming the field: nothing is silently dropped).
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { PodVolumeSpec, VolumeMount } from '../../../vch/types.js';
import { VicError } from '../../../shared/errors.js';
import { parseQuantity } from '../../resources/quantity.js';
import { isContentVolume } from './content.js';

/** The volume sources a pod VM supports; every other V1Volume field is a source it does not. */
const supportedSources = new Set([
  'name',
  'emptyDir',
  'configMap',
  'secret',
  'downwardAPI',
  'projected',
  // issue 16: a claim bound to a store volume of this node (src/provider/storage).
  'persistentVolumeClaim',
]);

/** A pod's persistentVolumeClaim volumes resolved to the store volumes behind them, by pod volume name. */
export type ClaimSources = ReadonlyMap<string, string>;

function isMemory(v: V1Volume): boolean {
  return v.emptyDir?.medium === 'Memory';
}

/**
 * The VCH volumes of the pod: one named volume per pod volume; a claim's is its store volume, which
 * must be resolved (never a pod-own volume in its place: the data would silently be elsewhere).
 */
export function podVolumeSpecs(pod: V1Pod, claims: ClaimSources = new Map()): PodVolumeSpec[] {
  return (pod.spec?.volumes ?? []).map((v) => {
    if (v.persistentVolumeClaim) {
      const source = claims.get(v.name);
      if (!source) {
        throw new VicError(
          'Conflict',
          `volume "${v.name}": claim ${v.persistentVolumeClaim.claimName} is not resolved to a volume of this node yet`,
        );
      }
      return { name: v.name, source };
    }
    if (!isMemory(v)) return { name: v.name };
    const size = v.emptyDir?.sizeLimit ? parseQuantity(v.emptyDir.sizeLimit) : undefined;
    return { name: v.name, medium: 'memory' as const, ...(size ? { sizeBytes: Math.ceil(size) } : {}) };
  });
}

/**
 * A container's mounts. ConfigMap, Secret, downwardAPI and projected volumes are always mounted
 * read-only, as the kubelet does since 1.10; a claim with `readOnly` too; others as the mount says.
 */
export function containerMounts(pod: V1Pod, container: V1Container): VolumeMount[] {
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (container.volumeMounts ?? []).map((m) => {
    const volume = volumes.get(m.name);
    const readOnly =
      (m.readOnly ?? false) ||
      (volume !== undefined && isContentVolume(volume)) ||
      volume?.persistentVolumeClaim?.readOnly === true;
    return { source: m.name, containerPath: m.mountPath, ...(readOnly ? { readOnly: true } : {}) };
  });
}

function unsupportedVolume(v: V1Volume): string[] {
  const at = `spec.volumes[${v.name}]`;
  const found: string[] = [];
  const set = Object.entries(v).filter(
    ([key, value]) => value !== undefined && value !== null && key !== 'name',
  );
  // hostPath has its own line in admission.ts.
  for (const [key] of set) if (!supportedSources.has(key) && key !== 'hostPath') found.push(`${at}.${key}`);
  if (set.length === 0) found.push(`${at} (a volume type this node does not know)`);
  const medium = v.emptyDir?.medium;
  if (medium && medium !== 'Memory') found.push(`${at}.emptyDir.medium=${medium}`);
  // Enforcing a disk limit needs measuring and eviction, which this node does not do yet.
  if (v.emptyDir?.sizeLimit && !isMemory(v)) found.push(`${at}.emptyDir.sizeLimit`);
  (v.projected?.sources ?? []).forEach((s, i) => {
    if (s.clusterTrustBundle) found.push(`${at}.projected.sources[${i}].clusterTrustBundle`);
    if (s.podCertificate) found.push(`${at}.projected.sources[${i}].podCertificate`);
  });
  return found;
}

function unsupportedMounts(field: string, c: V1Container): string[] {
  const found: string[] = [];
  for (const m of c.volumeMounts ?? []) {
    const at = `spec.${field}[${c.name}].volumeMounts[${m.name}]`;
    // Docker mounts take a volume subpath only from API 1.45; a VCH may be older (refused, not faked).
    if (m.subPath) found.push(`${at}.subPath`);
    if (m.subPathExpr) found.push(`${at}.subPathExpr`);
    if (m.mountPropagation && m.mountPropagation !== 'None') found.push(`${at}.mountPropagation`);
    if (m.recursiveReadOnly === 'Enabled') found.push(`${at}.recursiveReadOnly`);
  }
  if (c.volumeDevices?.length) found.push(`spec.${field}[${c.name}].volumeDevices`);
  for (const e of c.env ?? []) {
    const from = e.valueFrom as { fileKeyRef?: unknown } | undefined;
    if (from?.fileKeyRef) found.push(`spec.${field}[${c.name}].env[${e.name}].valueFrom.fileKeyRef`);
  }
  return found;
}

/** The volume, mount and env-source fields of the pod that a pod VM cannot honour. */
export function unsupportedVolumeFields(pod: V1Pod): string[] {
  const spec = pod.spec;
  if (!spec) return [];
  const found = (spec.volumes ?? []).flatMap(unsupportedVolume);
  const groups: Array<[string, V1Container[] | undefined]> = [
    ['initContainers', spec.initContainers],
    ['containers', spec.containers],
  ];
  for (const [field, containers] of groups)
    for (const c of containers ?? []) found.push(...unsupportedMounts(field, c));
  return found;
}
