// The label scheme of pod VMs: every Docker object vic-kubelet creates carries enough labels to
// rebuild the pod VM (node, pod identity, container, role, attempt, order, spec hash) after a restart.
import { createHash } from 'node:crypto';
import type { PodLayoutName } from './layout/limits.js';
import type { AppliedResources, ContainerRole, ContainerSpec, PodIdentity } from './types.js';

export const LABEL_PREFIX = 'vic-kubelet.io/';

export const Label = {
  managed: `${LABEL_PREFIX}managed`,
  node: `${LABEL_PREFIX}node`,
  podNamespace: `${LABEL_PREFIX}pod-namespace`,
  podName: `${LABEL_PREFIX}pod-name`,
  podUid: `${LABEL_PREFIX}pod-uid`,
  containerName: `${LABEL_PREFIX}container-name`,
  role: `${LABEL_PREFIX}role`,
  attempt: `${LABEL_PREFIX}attempt`,
  // The position among init or app containers: init containers must run in spec order.
  index: `${LABEL_PREFIX}index`,
  specHash: `${LABEL_PREFIX}spec-hash`,
  // The attempt that began the container's current crash back-off series: the series survives a
  // restart of vic-kubelet, and a long run starts a new one.
  backoffFrom: `${LABEL_PREFIX}backoff-from`,
  // On the sandbox: a stop after a restart of vic-kubelet still honours the pod's grace period.
  gracePeriod: `${LABEL_PREFIX}termination-grace-period`,
  // The pod layout the container was made for (absent: shared); a restart rebuilds the pod VM by it.
  layout: `${LABEL_PREFIX}layout`,
  // vm-per-pod: the resources the spec asked for (JSON), where the VM's own size (VIC's floor and
  // default) differs from them; a resize compares the spec with these.
  askedResources: `${LABEL_PREFIX}resources`,
} as const;

/** The name the sandbox carries in labels and Docker names; Kubernetes container names are lowercase. */
export const SANDBOX_NAME = 'POD';

export interface MemberLabels {
  nodeName: string;
  pod: PodIdentity;
  containerName: string;
  role: ContainerRole;
  attempt: number;
  index: number;
  specHash?: string;
  backoffFrom?: number;
  terminationGracePeriodSeconds?: number;
  layout?: PodLayoutName;
  askedResources?: AppliedResources;
}

export function buildLabels(m: MemberLabels): Record<string, string> {
  const labels: Record<string, string> = {
    [Label.managed]: 'true',
    [Label.node]: m.nodeName,
    [Label.podNamespace]: m.pod.namespace,
    [Label.podName]: m.pod.name,
    [Label.podUid]: m.pod.uid,
    [Label.containerName]: m.containerName,
    [Label.role]: m.role,
    [Label.attempt]: String(m.attempt),
    [Label.index]: String(m.index),
  };
  if (m.specHash !== undefined) labels[Label.specHash] = m.specHash;
  if (m.askedResources !== undefined) labels[Label.askedResources] = JSON.stringify(m.askedResources);
  if (m.backoffFrom !== undefined) labels[Label.backoffFrom] = String(m.backoffFrom);
  if (m.terminationGracePeriodSeconds !== undefined) {
    labels[Label.gracePeriod] = String(m.terminationGracePeriodSeconds);
  }
  if (m.layout === 'vm-per-pod') labels[Label.layout] = m.layout;
  return labels;
}

const roles: readonly string[] = ['sandbox', 'init', 'app', 'ephemeral'] satisfies ContainerRole[];

function nonNegativeInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

/** Reads labels back; undefined when they are not a complete set written by vic-kubelet. */
export function parseLabels(labels: Record<string, string> | undefined | null): MemberLabels | undefined {
  if (!labels || labels[Label.managed] !== 'true') return undefined;
  const nodeName = labels[Label.node];
  const namespace = labels[Label.podNamespace];
  const name = labels[Label.podName];
  const uid = labels[Label.podUid];
  const containerName = labels[Label.containerName];
  const role = labels[Label.role];
  const attempt = nonNegativeInt(labels[Label.attempt]);
  const index = nonNegativeInt(labels[Label.index]);
  if (!nodeName || !namespace || !name || !uid || !containerName || !role || !roles.includes(role)) {
    return undefined;
  }
  if (attempt === undefined || index === undefined) return undefined;
  const parsed: MemberLabels = {
    nodeName,
    pod: { namespace, name, uid },
    containerName,
    role: role as ContainerRole,
    attempt,
    index,
  };
  const specHash = labels[Label.specHash];
  if (specHash) parsed.specHash = specHash;
  const backoffFrom = nonNegativeInt(labels[Label.backoffFrom]);
  if (backoffFrom !== undefined) parsed.backoffFrom = backoffFrom;
  const grace = nonNegativeInt(labels[Label.gracePeriod]);
  if (grace !== undefined) parsed.terminationGracePeriodSeconds = grace;
  if (labels[Label.layout] === 'vm-per-pod') parsed.layout = 'vm-per-pod';
  const asked = askedResourcesOf(labels[Label.askedResources]);
  if (asked) parsed.askedResources = asked;
  return parsed;
}

function askedResourcesOf(text: string | undefined): AppliedResources | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object') return undefined;
    const out: AppliedResources = {};
    for (const key of ['nanoCpus', 'cpuShares', 'memoryBytes', 'memoryReservationBytes'] as const) {
      const n = (value as Record<string, unknown>)[key];
      if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) out[key] = n;
    }
    return out;
  } catch {
    return undefined; // a label someone else wrote: the engine's own view is used instead
  }
}

/** Docker label filters (`key=value`) that select every object of a node, or of one pod on it. */
export function nodeFilter(nodeName: string): string[] {
  return [`${Label.managed}=true`, `${Label.node}=${nodeName}`];
}

/** Every object of the pods of a node with one namespace and name (all their UIDs). */
export function podNameFilter(nodeName: string, pod: { namespace: string; name: string }): string[] {
  return [...nodeFilter(nodeName), `${Label.podNamespace}=${pod.namespace}`, `${Label.podName}=${pod.name}`];
}

export function podFilter(nodeName: string, uid: string): string[] {
  return [...nodeFilter(nodeName), `${Label.podUid}=${uid}`];
}

/**
 * The deterministic Docker name, as dockershim named them: Docker's name uniqueness then makes a
 * repeated create fail with 409 instead of making a duplicate. The full UID keeps a pod that is
 * deleted and recreated under the same name apart from its predecessor.
 */
export function dockerName(pod: PodIdentity, containerName: string, attempt: number): string {
  return `k8s_${containerName}_${pod.name}_${pod.namespace}_${pod.uid}_${attempt}`;
}

/** A short, stable hash of a container spec: lets the provider see that a running container is stale. */
export function specHash(spec: ContainerSpec): string {
  return createHash('sha256').update(stableJson(spec)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
