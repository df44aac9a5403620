// What an in-place resize of a running pod asks of the node, decided from the pod's spec (the
// resources the resize subresource wrote), what each container runs with now (read from the VCH) and
// the node's room: nothing, a container update (resizePolicy NotRequired), a container restart
// (RestartContainer), or a resize left pending, Infeasible (beyond the node) or Deferred (beyond what
// the other pods leave). Pure, and re-derived on every pass: the VCH holds what is applied, the API
// server what was asked; no allocation checkpoint lives in memory. The kubelet's
// handlePodResourcesResize and canAdmitPod (pkg/kubelet/allocation/allocation_manager.go) and the
// resize admit handler (pkg/kubelet/lifecycle) in one place.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { appliedFrom, sameApplied, type LayoutLimits } from '../../../vch/index.js';
import type { AppliedResources, ContainerStatus, PodVmStatus, Resources } from '../../../vch/types.js';
import { podRequests, type NodeAllocatable } from '../admission.js';
import { containerSpec } from '../pod-vm-spec.js';

export type PendingReason = 'Infeasible' | 'Deferred';

/** One container to bring to its new resources. */
export interface ContainerResize {
  name: string;
  id: string;
  status: ContainerStatus;
  resources: Resources;
  /** `update` in place; `restart` when a changed resource's resizePolicy is RestartContainer. */
  how: 'update' | 'restart';
}

export interface ResizeDecision {
  /** The resize cannot be allocated now: the containers keep what they run with. */
  pending?: { reason: PendingReason; message: string };
  /** Containers whose applied resources differ from the spec, when the resize can go ahead. */
  actions: ContainerResize[];
}

export interface ResizeInputs {
  pod: V1Pod;
  vm: PodVmStatus;
  allocatable: NodeAllocatable;
  /** The node's other admitted, active pods. */
  others: V1Pod[];
  limits?: LayoutLimits | undefined;
}

/** The container's resources as src/vch takes them. */
export function specResources(c: V1Container): Resources | undefined {
  return containerSpec(c, []).resources;
}

function changedResources(want: AppliedResources, have: AppliedResources): ('cpu' | 'memory')[] {
  const out: ('cpu' | 'memory')[] = [];
  if ((want.nanoCpus ?? 0) !== (have.nanoCpus ?? 0) || (want.cpuShares ?? 0) !== (have.cpuShares ?? 0)) {
    out.push('cpu');
  }
  if (
    (want.memoryBytes ?? 0) !== (have.memoryBytes ?? 0) ||
    (want.memoryReservationBytes ?? 0) !== (have.memoryReservationBytes ?? 0)
  ) {
    out.push('memory');
  }
  return out;
}

/** resizePolicy of one resource: NotRequired unless the container says RestartContainer. */
function restartPolicyOf(c: V1Container, resource: 'cpu' | 'memory'): string {
  return c.resizePolicy?.find((p) => p.resourceName === resource)?.restartPolicy ?? 'NotRequired';
}

/**
 * Whether the pod's requests fit: beyond the node's allocatable is Infeasible (it never will fit),
 * beyond what the other pods leave is Deferred; the kubelet's messages.
 */
export function resizeFit(
  pod: V1Pod,
  others: V1Pod[],
  allocatable: NodeAllocatable,
): ResizeDecision['pending'] {
  const wants = podRequests(pod);
  if (wants.memoryBytes > allocatable.memoryBytes) {
    return {
      reason: 'Infeasible',
      message: `Node didn't have enough capacity: memory, requested: ${wants.memoryBytes}, capacity: ${allocatable.memoryBytes}`,
    };
  }
  if (wants.milliCpu > allocatable.milliCpu) {
    return {
      reason: 'Infeasible',
      message: `Node didn't have enough capacity: cpu, requested: ${wants.milliCpu}, capacity: ${allocatable.milliCpu}`,
    };
  }
  const used = others
    .map((p) => podRequests(p))
    .reduce(
      (sum, r) => ({ milliCpu: sum.milliCpu + r.milliCpu, memoryBytes: sum.memoryBytes + r.memoryBytes }),
      { milliCpu: 0, memoryBytes: 0 },
    );
  const short = (resource: string, requested: number, inUse: number, capacity: number) => ({
    reason: 'Deferred' as const,
    message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${inUse}, capacity: ${capacity}`,
  });
  if (wants.milliCpu > 0 && used.milliCpu + wants.milliCpu > allocatable.milliCpu) {
    return short('cpu', wants.milliCpu, used.milliCpu, allocatable.milliCpu);
  }
  if (wants.memoryBytes > 0 && used.memoryBytes + wants.memoryBytes > allocatable.memoryBytes) {
    return short('memory', wants.memoryBytes, used.memoryBytes, allocatable.memoryBytes);
  }
  return undefined;
}

export function decideResize(inputs: ResizeInputs): ResizeDecision {
  const { pod, vm } = inputs;
  const wanted: ContainerResize[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const status = vm.containers.find((s) => s.name === c.name);
    // Only a running container is resized; one that starts later is created with the new size.
    if (!status || status.state.kind !== 'running' || !status.applied) continue;
    const resources = specResources(c) ?? {};
    const want = appliedFrom(resources);
    if (sameApplied(want, status.applied)) continue;
    const changed = changedResources(want, status.applied);
    const how = changed.some((r) => restartPolicyOf(c, r) === 'RestartContainer') ? 'restart' : 'update';
    wanted.push({ name: c.name, id: status.id, status, resources, how });
  }
  if (!wanted.length) return { actions: [] };
  if (inputs.limits && !inputs.limits.inPlaceResize) {
    return {
      pending: {
        reason: 'Infeasible',
        message: `In-place resize is not possible on this node: ${inputs.limits.because}`,
      },
      actions: [],
    };
  }
  const pending = resizeFit(pod, inputs.others, inputs.allocatable);
  return pending ? { pending, actions: [] } : { actions: wanted };
}
