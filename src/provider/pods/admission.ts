// Admission like a kubelet's: a pod that asks for more than is left of Allocatable fails with
// OutOfcpu / OutOfmemory / OutOfpods, and a pod that asks for what a pod VM cannot give
// (host namespaces, hostPath volumes, privileged containers) fails with a reason that says so.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { vmSizeFor, type LayoutLimits, type VmSizing } from '../../vch/index.js';
import { parseMilliCpu, parseQuantity } from '../resources/quantity.js';
import { fqdnTooLong } from './hosts.js';
import {
  forbiddenSysctl,
  securityNeverSupported,
  securityUnsupported,
  sysctlForbiddenReason,
} from './security-context.js';
import { unsupportedLifecycleFields } from './lifecycle-admission.js';
import { unsupportedVolumeFields } from './volumes/plan.js';

export type Admission = { admitted: true } | { admitted: false; reason: string; message: string };

export interface NodeAllocatable {
  milliCpu: number;
  memoryBytes: number;
  pods: number;
}

export const unsupportedReason = 'UnsupportedPodSpec';

/** What a pod VM cannot do, as the fields that ask for it. */
export function unsupportedFields(pod: V1Pod): string[] {
  const spec = pod.spec;
  if (!spec) return [];
  const found: string[] = [];
  if (spec.hostNetwork) found.push('spec.hostNetwork');
  if (spec.hostPID) found.push('spec.hostPID');
  if (spec.hostIPC) found.push('spec.hostIPC');
  for (const volume of spec.volumes ?? []) {
    if (volume.hostPath) found.push(`spec.volumes[${volume.name}].hostPath`);
  }
  const groups: Array<[string, V1Container[] | undefined]> = [
    ['initContainers', spec.initContainers],
    ['containers', spec.containers],
  ];
  for (const [field, containers] of groups) {
    for (const c of containers ?? []) {
      if (c.securityContext?.privileged) found.push(`spec.${field}[${c.name}].securityContext.privileged`);
    }
  }
  // Lifecycle fields not implemented yet (lifecycle-admission.ts).
  found.push(...unsupportedLifecycleFields(pod));
  // issue 10: volume types, mount options and env sources a pod VM cannot honour.
  found.push(...unsupportedVolumeFields(pod));
  return found;
}

export interface PodRequests {
  milliCpu: number;
  memoryBytes: number;
}

/**
 * What one container takes: its requests; or, where each container is a VM of its own (`sizing`), the
 * size of that VM (its limit, else its request, within the VCH's floor and defaults).
 */
export function containerRequests(c: V1Container, sizing?: VmSizing): PodRequests {
  const { requests, limits } = c.resources ?? {};
  if (sizing) {
    const cpu = limits?.cpu ?? requests?.cpu;
    const memory = limits?.memory ?? requests?.memory;
    const vm = vmSizeFor(sizing, {
      ...(cpu ? { milliCpu: parseMilliCpu(cpu) } : {}),
      ...(memory ? { memoryBytes: parseQuantity(memory) } : {}),
    });
    return { milliCpu: vm.cpus * 1000, memoryBytes: vm.memoryBytes };
  }
  return {
    milliCpu: requests?.cpu ? parseMilliCpu(requests.cpu) : 0,
    memoryBytes: requests?.memory ? parseQuantity(requests.memory) : 0,
  };
}

/**
 * The pod's effective request: the larger of the biggest init container and the sum of the app
 * containers (init container VMs run one after another before the app's, so the same holds for VMs).
 */
export function podRequests(pod: V1Pod, sizing?: VmSizing): PodRequests {
  const of = (c: V1Container): PodRequests => containerRequests(c, sizing);
  const apps = (pod.spec?.containers ?? [])
    .map(of)
    .reduce(
      (sum, r) => ({ milliCpu: sum.milliCpu + r.milliCpu, memoryBytes: sum.memoryBytes + r.memoryBytes }),
      { milliCpu: 0, memoryBytes: 0 },
    );
  const inits = (pod.spec?.initContainers ?? []).map(of);
  const overhead = pod.spec?.overhead;
  return {
    milliCpu:
      Math.max(apps.milliCpu, ...inits.map((r) => r.milliCpu)) +
      (overhead?.cpu ? parseMilliCpu(overhead.cpu) : 0),
    memoryBytes:
      Math.max(apps.memoryBytes, ...inits.map((r) => r.memoryBytes)) +
      (overhead?.memory ? parseQuantity(overhead.memory) : 0),
  };
}

/**
 * What the VCH's pod layout cannot give the pod, as the fields that ask for it with the limit each
 * breaks. In the vm-per-pod layout each container is its own VM: one long-running container, no
 * sidecars, no shared process namespace.
 */
export function layoutUnsupported(pod: V1Pod, limits: LayoutLimits | undefined): string[] {
  const spec = pod.spec;
  if (!spec || !limits) return [];
  const found: string[] = [];
  const apps = spec.containers.length;
  if (limits.maxAppContainers !== undefined && apps > limits.maxAppContainers) {
    found.push(`spec.containers (${apps} long-running containers; at most ${limits.maxAppContainers})`);
  }
  if (!limits.sidecars) {
    for (const c of spec.initContainers ?? []) {
      if (c.restartPolicy === 'Always')
        found.push(`spec.initContainers[${c.name}].restartPolicy: Always (a sidecar)`);
    }
  }
  if (!limits.shareProcessNamespace && spec.shareProcessNamespace) found.push('spec.shareProcessNamespace');
  if (!limits.hostIP) {
    // Only the app containers' ports are published, as the kubelet maps them (kuberuntime_sandbox.go).
    for (const c of spec.containers) {
      for (const p of c.ports ?? []) {
        if (p.hostIP && p.hostIP !== '0.0.0.0') {
          found.push(
            `spec.containers[${c.name}].ports[${p.containerPort}].hostIP (${p.hostIP}; only 0.0.0.0)`,
          );
        }
      }
    }
  }
  if (!limits.podIpBeforeStart) {
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const e of c.env ?? []) {
        const path = e.valueFrom?.fieldRef?.fieldPath;
        if (path === 'status.podIP' || path === 'status.podIPs') {
          found.push(
            `spec.containers[${c.name}].env[${e.name}] (${path} is not known before the container VM starts)`,
          );
        }
      }
    }
  }
  return found;
}

/** What the node's configuration adds to admission. */
export interface AdmitPolicy {
  /** The operator's `--allowed-unsafe-sysctls`: names, or prefixes ending in `*`. */
  allowedUnsafeSysctls?: readonly string[];
}

/**
 * Security context and hosts (the spec helper's block): sysctls outside the allowlist fail as the
 * kubelet's sysctl admit handler fails them; what the node or its layout cannot give fails as
 * UnsupportedPodSpec.
 */
export function admitSecurity(pod: V1Pod, layout: LayoutLimits | undefined, policy: AdmitPolicy): Admission {
  const sysctl = forbiddenSysctl(pod, policy.allowedUnsafeSysctls);
  if (sysctl) return { admitted: false, reason: sysctlForbiddenReason, message: sysctl };
  const never = securityNeverSupported(pod);
  if (never.length) {
    return {
      admitted: false,
      reason: unsupportedReason,
      message: `Pod cannot run in a pod VM on a virtual node: ${never.join(', ')} ${never.length === 1 ? 'is' : 'are'} not supported`,
    };
  }
  const fields = securityUnsupported(pod, layout?.settings);
  if (fields.length && layout) {
    return {
      admitted: false,
      reason: unsupportedReason,
      message: `Pod cannot run in a pod VM on this node: ${fields.join(', ')}: ${layout.because}`,
    };
  }
  const fqdn = fqdnTooLong(pod);
  if (fqdn) return { admitted: false, reason: unsupportedReason, message: fqdn };
  return { admitted: true };
}

/** Decides whether `pod` may run beside `admitted` (the node's other active pods). */
export function admit(
  pod: V1Pod,
  admitted: V1Pod[],
  allocatable: NodeAllocatable,
  layout?: LayoutLimits,
  policy: AdmitPolicy = {},
): Admission {
  const security = admitSecurity(pod, layout, policy);
  if (!security.admitted) return security;
  const layoutLimited = layoutUnsupported(pod, layout);
  if (layoutLimited.length > 0 && layout) {
    return {
      admitted: false,
      reason: unsupportedReason,
      message: `Pod cannot run in a pod VM on this node: ${layoutLimited.join(', ')}: ${layout.because}`,
    };
  }
  const unsupported = unsupportedFields(pod);
  if (unsupported.length > 0) {
    return {
      admitted: false,
      reason: unsupportedReason,
      message: `Pod cannot run in a pod VM on a virtual node: ${unsupported.join(', ')} ${unsupported.length === 1 ? 'is' : 'are'} not supported`,
    };
  }
  // Where each container is a VM, a pod takes what its VMs are sized to, not what it requests.
  const sizing = layout?.vmSizing;
  const used = admitted
    .map((p) => podRequests(p, sizing))
    .reduce(
      (sum, r) => ({ milliCpu: sum.milliCpu + r.milliCpu, memoryBytes: sum.memoryBytes + r.memoryBytes }),
      { milliCpu: 0, memoryBytes: 0 },
    );
  const wants = podRequests(pod, sizing);
  const short = (resource: string, requested: number, inUse: number, capacity: number): Admission => ({
    admitted: false,
    reason: `OutOf${resource}`,
    message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${inUse}, capacity: ${capacity}`,
  });
  if (admitted.length + 1 > allocatable.pods) return short('pods', 1, admitted.length, allocatable.pods);
  if (wants.milliCpu > 0 && used.milliCpu + wants.milliCpu > allocatable.milliCpu) {
    return short('cpu', wants.milliCpu, used.milliCpu, allocatable.milliCpu);
  }
  if (wants.memoryBytes > 0 && used.memoryBytes + wants.memoryBytes > allocatable.memoryBytes) {
    return short('memory', wants.memoryBytes, used.memoryBytes, allocatable.memoryBytes);
  }
  return { admitted: true };
}
