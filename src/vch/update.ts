// A running container's CPU and memory, read back and changed in place (Docker's
// POST /containers/{id}/update): what an in-place resize of a pod needs from the VCH. The numbers are
// the engine's own (CPU shares, nano-CPUs, bytes), so a resize can tell whether what runs is what
// was asked without a lossy round trip through Kubernetes quantities.
import type Docker from 'dockerode';
import { VicError } from '../shared/errors.js';
import { call, type VchClient } from './client.js';
import { resourceConfig } from './container-config.js';
import type { AppliedResources, Resources } from './types.js';

/** The engine's numbers for `resources`, as a create or an update applies them. */
export function appliedFrom(resources: Resources | undefined): AppliedResources {
  const host = resourceConfig(resources);
  return {
    ...(host.NanoCpus ? { nanoCpus: host.NanoCpus } : {}),
    ...(host.CpuShares ? { cpuShares: host.CpuShares } : {}),
    ...(host.Memory ? { memoryBytes: host.Memory } : {}),
    ...(host.MemoryReservation ? { memoryReservationBytes: host.MemoryReservation } : {}),
  };
}

/**
 * The resources that give back `applied` when created again: the inverse of appliedFrom. CPU shares
 * become the smallest request with as many shares (1 CPU = 1024 shares).
 */
export function resourcesFrom(applied: AppliedResources): Resources | undefined {
  const limits = {
    ...(applied.nanoCpus ? { nanoCpus: applied.nanoCpus } : {}),
    ...(applied.memoryBytes ? { memoryBytes: applied.memoryBytes } : {}),
  };
  const requests = {
    ...(applied.cpuShares ? { nanoCpus: Math.ceil((applied.cpuShares * 1e9) / 1024) } : {}),
    ...(applied.memoryReservationBytes ? { memoryBytes: applied.memoryReservationBytes } : {}),
  };
  const resources: Resources = {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  };
  return Object.keys(resources).length ? resources : undefined;
}

/** What a container runs with, from its inspected HostConfig; a field left out is unset (no limit). */
export function appliedOf(host: Docker.HostConfig | undefined): AppliedResources {
  if (!host) return {};
  // A CPU limit set as quota and period (by someone else) reads as the same nano-CPUs.
  const quota = host.CpuQuota && host.CpuPeriod ? Math.round((host.CpuQuota * 1e9) / host.CpuPeriod) : 0;
  const nanoCpus = host.NanoCpus || quota;
  return {
    ...(nanoCpus ? { nanoCpus } : {}),
    // Docker reads an unset CpuShares as 0 (the kernel's default 1024 applies).
    ...(host.CpuShares ? { cpuShares: host.CpuShares } : {}),
    ...(host.Memory ? { memoryBytes: host.Memory } : {}),
    ...(host.MemoryReservation ? { memoryReservationBytes: host.MemoryReservation } : {}),
  };
}

/** Whether two sets of engine numbers are the same. */
export function sameApplied(a: AppliedResources, b: AppliedResources): boolean {
  return (
    (a.nanoCpus ?? 0) === (b.nanoCpus ?? 0) &&
    (a.cpuShares ?? 0) === (b.cpuShares ?? 0) &&
    (a.memoryBytes ?? 0) === (b.memoryBytes ?? 0) &&
    (a.memoryReservationBytes ?? 0) === (b.memoryReservationBytes ?? 0)
  );
}

/**
 * Changes a running container's CPU and memory in place. The kubelet gives a container no swap, so
 * the swap limit moves with the memory limit (Docker refuses a memory limit above the swap limit it
 * set at create). A limit cannot be taken away in place: the API server refuses such a resize, and
 * so does this.
 */
export async function updateResources(client: VchClient, id: string, resources: Resources): Promise<void> {
  const want = appliedFrom(resources);
  const body: Record<string, number> = {
    CpuShares: want.cpuShares ?? 0,
    MemoryReservation: want.memoryReservationBytes ?? 0,
  };
  if (want.nanoCpus !== undefined) body.NanoCpus = want.nanoCpus;
  if (want.memoryBytes !== undefined) {
    body.Memory = want.memoryBytes;
    body.MemorySwap = want.memoryBytes;
  }
  if (want.nanoCpus === undefined && resources.limits?.nanoCpus === undefined && body.NanoCpus) {
    throw new VicError('Invalid', `container ${id}: a CPU limit cannot be removed in place`);
  }
  await call(client, `update resources of container ${id}`, () =>
    client.docker.getContainer(id).update(body),
  );
}
