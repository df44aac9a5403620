// How a resize shows in the pod's status, as a 1.35+ kubelet writes it (pkg/kubelet/status and
// kubelet_pods.go convertToAPIContainerStatuses): each container's allocatedResources (the requests
// the node accepted) and resources (what it runs with), and the pod conditions PodResizePending
// (Infeasible or Deferred, with the reason) and PodResizeInProgress (accepted, not yet applied; Error
// when applying failed), each with the generation it was decided on.
import type { V1Pod, V1PodCondition, V1PodStatus, V1ResourceRequirements } from '@kubernetes/client-node';
import { appliedFrom, sameApplied } from '../../../vch/index.js';
import type { PodVmStatus } from '../../../vch/types.js';
import { specResources, type PendingReason } from './resize-plan.js';

export const resizePendingType = 'PodResizePending';
export const resizeInProgressType = 'PodResizeInProgress';

/** What this pass found of the pod's resize. */
export interface ResizeReport {
  pending?: { reason: PendingReason; message: string };
  /** Applying an accepted resize failed: PodResizeInProgress with reason Error. */
  error?: string;
}

type Quantities = Record<string, string>;

function cpuAndMemory(list: Quantities | undefined): Quantities | undefined {
  if (!list) return undefined;
  const out: Quantities = {};
  if (list.cpu !== undefined) out.cpu = list.cpu;
  if (list.memory !== undefined) out.memory = list.memory;
  return Object.keys(out).length ? out : undefined;
}

function requirements(r: V1ResourceRequirements | undefined): V1ResourceRequirements | undefined {
  const requests = cpuAndMemory(r?.requests);
  const limits = cpuAndMemory(r?.limits);
  if (!requests && !limits) return undefined;
  return { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
}

function condition(
  type: string,
  reason: string | undefined,
  message: string | undefined,
  pod: V1Pod,
  now: Date,
): V1PodCondition {
  const before = pod.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  return {
    type,
    status: 'True',
    lastProbeTime: null as unknown as undefined,
    lastTransitionTime: before?.lastTransitionTime ?? now,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(pod.metadata?.generation !== undefined ? { observedGeneration: pod.metadata.generation } : {}),
  };
}

/**
 * The status with the resize written in. A container that runs what its spec asks reports the spec's
 * resources as allocated and actual; one whose resize is pending keeps what the last status said it
 * was allocated and ran with (the API server keeps the allocation, as the kubelet's checkpoint does).
 */
export function withResize(
  status: V1PodStatus,
  pod: V1Pod,
  context: {
    vm: PodVmStatus | undefined;
    report: ResizeReport;
    now: Date;
    /** False on a layout that cannot resize a running container (vm-per-pod). */
    inPlace?: boolean;
  },
): V1PodStatus {
  const { vm, report, now, inPlace = true } = context;
  const previous = (name: string) => pod.status?.containerStatuses?.find((s) => s.name === name);
  const containerStatuses = status.containerStatuses?.map((s) => {
    const spec = pod.spec?.containers.find((c) => c.name === s.name);
    const asked = requirements(spec?.resources);
    if (!spec || !asked) return s;
    // Without in-place resize the container runs with its VM's size (reported as its resources by
    // buildPodStatus), and what was allocated stays what it was created with.
    const applied = inPlace ? vm?.containers.find((c) => c.name === s.name)?.applied : undefined;
    const matches = applied !== undefined && sameApplied(appliedFrom(specResources(spec)), applied);
    const before = previous(s.name);
    const allocated = matches || !before?.allocatedResources ? asked.requests : before.allocatedResources;
    const actual = matches || !before?.resources ? asked : before.resources;
    return {
      ...s,
      ...(allocated ? { allocatedResources: allocated } : {}),
      ...(applied !== undefined && actual ? { resources: actual } : {}),
    };
  });
  const conditions = [...(status.conditions ?? [])];
  if (report.pending) {
    conditions.push(condition(resizePendingType, report.pending.reason, report.pending.message, pod, now));
  }
  if (report.error) conditions.push(condition(resizeInProgressType, 'Error', report.error, pod, now));
  return { ...status, conditions, ...(containerStatuses ? { containerStatuses } : {}) };
}

/** Resize conditions the pod carries that this status no longer has: the patch deletes them. */
export function staleResizeConditions(pod: V1Pod, status: V1PodStatus): string[] {
  return [resizePendingType, resizeInProgressType].filter(
    (type) =>
      pod.status?.conditions?.some((c) => c.type === type) &&
      !status.conditions?.some((c) => c.type === type),
  );
}

/** The kubelet's resize event text: what was asked, for which generation, and why it waits. */
export function resizeEventMessage(pod: V1Pod, prefix: string, error?: string): string {
  const containers = (pod.spec?.containers ?? []).map((c) => ({
    name: c.name,
    resources: requirements(c.resources) ?? {},
  }));
  const summary = { containers, generation: pod.metadata?.generation ?? 0, ...(error ? { error } : {}) };
  return `${prefix}: ${JSON.stringify(summary)}`;
}
