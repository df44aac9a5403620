// A container restarted for any reason but a resize is created with what it was allocated, not with
// a resize the node has not admitted: the kubelet creates containers from its allocation
// (pkg/kubelet/allocation/allocation_manager.go), and a pending resize (Deferred, Infeasible) leaves
// that allocation alone. Here the allocation is what the previous attempt runs with, read from the
// VCH; the resizer brings the new attempt to the spec once the resize fits.
import { resourcesFrom } from '../../../vch/index.js';
import type { PodVmSpec, PodVmStatus } from '../../../vch/types.js';

/** Gives app container `name` of `spec` the resources its previous attempt had, when there is one. */
export function keepAllocatedResources(spec: PodVmSpec, name: string, status: PodVmStatus | undefined): void {
  const previous = status?.containers.find((c) => c.name === name)?.applied;
  const container = spec.containers.find((c) => c.name === name);
  if (!previous || !container) return;
  const resources = resourcesFrom(previous);
  if (resources) container.resources = resources;
  else delete container.resources;
}
