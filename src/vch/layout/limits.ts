// The two pod layouts and what each can give a pod, as plain data: the provider refuses at admission
// what the layout in use cannot honour, and nothing above src/vch needs to know how a layout works.

/**
 * - `shared`: a sandbox owns the pod's network (and IPC) namespace and every container joins it, as
 *   a kubelet does on a Docker engine.
 * - `vm-per-pod`: the VCH gives each container its own VM (vSphere Integrated Containers): the one
 *   long-running container is the pod VM and owns the pod IP; init containers run before it, one after
 *   another, each as its own short-lived VM.
 */
export type PodLayoutName = 'shared' | 'vm-per-pod';

export const podLayoutNames: readonly PodLayoutName[] = ['shared', 'vm-per-pod'];

/** What a layout can give a pod; a field left out means "no limit". */
export interface LayoutLimits {
  layout: PodLayoutName;
  /** Long-running (app) containers one pod may have. */
  maxAppContainers?: number;
  /** Init containers with restartPolicy Always (sidecars) that run beside the app containers. */
  sidecars: boolean;
  /** spec.shareProcessNamespace. */
  shareProcessNamespace: boolean;
  /** Containers of one pod reach each other on localhost. */
  sharedLocalhost: boolean;
  /**
   * The pod IP is known before a container is created (the sandbox has it), so the downward API's
   * status.podIP can be put in a container's environment.
   */
  podIpBeforeStart: boolean;
  /**
   * Volume content (configMap, secret, downwardAPI, projected) can be written: it goes in through the
   * sandbox container, which mounts every pod volume.
   */
  volumeContent: boolean;
  /** The smallest memory a container VM gets: a smaller limit is raised to it. */
  minMemoryBytes?: number;
  /** Why the limits are what they are, for an admission message. */
  because: string;
}

/** vSphere Integrated Containers' floor for a container VM (MemoryMinMB in vmware/vic's container.go). */
export const VIC_MIN_MEMORY_BYTES = 512 * 1024 * 1024;

export function layoutLimits(layout: PodLayoutName): LayoutLimits {
  if (layout === 'shared') {
    return {
      layout,
      sidecars: true,
      shareProcessNamespace: true,
      sharedLocalhost: true,
      podIpBeforeStart: true,
      volumeContent: true,
      because: 'the containers of a pod share one sandbox',
    };
  }
  return {
    layout,
    maxAppContainers: 1,
    sidecars: false,
    shareProcessNamespace: false,
    sharedLocalhost: false,
    // The container VM gets its address when it starts, after its environment is fixed.
    podIpBeforeStart: false,
    // No sandbox container to write content through yet (a short-lived writer VM is the next step).
    volumeContent: false,
    minMemoryBytes: VIC_MIN_MEMORY_BYTES,
    because:
      'this VCH runs every container as its own VM and cannot share namespaces between them (pod layout vm-per-pod)',
  };
}
