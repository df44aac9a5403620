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
  /** A running container's CPU and memory can change in place (an in-place pod resize). */
  inPlaceResize: boolean;
  /**
   * The pod IP is known before a container is created (the sandbox has it), so the downward API's
   * status.podIP can be put in a container's environment.
   */
  podIpBeforeStart: boolean;
  /**
   * A port's hostIP other than 0.0.0.0. VIC binds a host port on the VCH's public interface only and
   * refuses any other address at create (vmware/vic container.go validateCreateConfig).
   */
  hostIP: boolean;
  /** The smallest memory a container VM gets: a smaller limit is raised to it. */
  minMemoryBytes?: number;
  /**
   * How the VCH sizes each container as a VM of its own: what it really takes for a pod, which
   * admission counts against Allocatable and the pod's status reports. Absent: containers share a VM.
   */
  vmSizing?: VmSizing;
  /** Which container and pod settings the layout's containers honour. */
  settings: LayoutSettings;
  /** Why the limits are what they are, for an admission message. */
  because: string;
}

/**
 * The Docker create fields a layout can give a container or pod, each as a yes/no: the provider
 * refuses a pod that needs one the layout lacks rather than run it without.
 */
export interface LayoutSettings {
  /** Config.User as `uid[:gid]`. */
  user: boolean;
  /** HostConfig.GroupAdd. */
  supplementalGroups: boolean;
  /** HostConfig.ReadonlyRootfs. */
  readOnlyRootfs: boolean;
  /** SecurityOpt no-new-privileges. */
  noNewPrivileges: boolean;
  /** HostConfig.CapAdd / CapDrop. */
  capabilities: boolean;
  /** A seccomp filter (the engine's default profile); a layout without one runs every container unconfined. */
  seccomp: boolean;
  /** HostConfig.Sysctls. */
  sysctls: boolean;
  /** HostConfig.ExtraHosts (lines added to /etc/hosts). */
  extraHosts: boolean;
  /** Config.Domainname. */
  domainname: boolean;
}

const allSettings: LayoutSettings = {
  user: true,
  supplementalGroups: true,
  readOnlyRootfs: true,
  noNewPrivileges: true,
  capabilities: true,
  seccomp: true,
  sysctls: true,
  extraHosts: true,
  domainname: true,
};

/**
 * What VIC's Docker personality passes on to a container VM: the user (Config.User, read by the
 * tether) and the domain name (vmware/vic lib/apiservers/engine/backends/container.go,
 * proxy/container_proxy.go); every other field above it drops without a word, and a VM has no
 * seccomp filter, capability set or sysctl namespace of a container runtime to set.
 */
const vicSettings: LayoutSettings = {
  user: true,
  supplementalGroups: false,
  readOnlyRootfs: false,
  noNewPrivileges: false,
  capabilities: false,
  seccomp: false,
  sysctls: false,
  extraHosts: false,
  domainname: true,
};

const MiB = 1024 * 1024;

/** vSphere Integrated Containers' floor for a container VM (MemoryMinMB in vmware/vic's container.go). */
export const VIC_MIN_MEMORY_BYTES = 512 * MiB;

/** How a VCH turns a container's CPU and memory into the size of its VM. */
export interface VmSizing {
  minMemoryBytes: number;
  /** Memory is rounded up to a multiple of this (memory hot-add needs it). */
  memoryAlignBytes: number;
  /** The memory of a container VM that asks for none. */
  defaultMemoryBytes: number;
  minCpus: number;
  /** The vCPUs of a container VM that asks for none. */
  defaultCpus: number;
}

/**
 * vmware/vic lib/apiservers/engine/backends/container.go (MemoryMinMB 512, MemoryAlignMB 128,
 * MemoryDefaultMB 2048, MinCPUs 1, DefaultCPUs 2; validateCreateConfig applies them).
 */
export const VIC_VM_SIZING: VmSizing = {
  minMemoryBytes: VIC_MIN_MEMORY_BYTES,
  memoryAlignBytes: 128 * MiB,
  defaultMemoryBytes: 2048 * MiB,
  minCpus: 1,
  defaultCpus: 2,
};

/** The size of one container VM. */
export interface VmSize {
  cpus: number;
  memoryBytes: number;
}

/**
 * What a container VM gets for what it asks (its limit, else its request; undefined or 0: nothing),
 * as validateCreateConfig decides it: no memory is the default size, less than the floor is the floor,
 * and memory is aligned up; CPU is whole vCPUs, rounded up, default when not asked.
 */
export function vmSizeFor(sizing: VmSizing, asked: { milliCpu?: number; memoryBytes?: number }): VmSize {
  const memory = asked.memoryBytes ?? 0;
  let memoryBytes = memory > 0 ? Math.max(sizing.minMemoryBytes, memory) : sizing.defaultMemoryBytes;
  memoryBytes = Math.ceil(memoryBytes / sizing.memoryAlignBytes) * sizing.memoryAlignBytes;
  const milli = asked.milliCpu ?? 0;
  const cpus = milli > 0 ? Math.max(sizing.minCpus, Math.ceil(milli / 1000)) : sizing.defaultCpus;
  return { cpus, memoryBytes };
}

export function layoutLimits(layout: PodLayoutName): LayoutLimits {
  if (layout === 'shared') {
    return {
      layout,
      sidecars: true,
      shareProcessNamespace: true,
      sharedLocalhost: true,
      inPlaceResize: true,
      podIpBeforeStart: true,
      hostIP: true,
      settings: allSettings,
      because: 'the containers of a pod share one sandbox',
    };
  }
  return {
    layout,
    maxAppContainers: 1,
    sidecars: false,
    shareProcessNamespace: false,
    sharedLocalhost: false,
    // VIC sizes a container VM when it is made; its Docker personality does not implement
    // ContainerUpdate (vmware/vic lib/apiservers/engine/backends/container.go).
    inPlaceResize: false,
    // The container VM gets its address when it starts, after its environment is fixed.
    podIpBeforeStart: false,
    hostIP: false,
    minMemoryBytes: VIC_MIN_MEMORY_BYTES,
    vmSizing: VIC_VM_SIZING,
    settings: vicSettings,
    because:
      'this VCH runs every container as its own VM and cannot share namespaces between them (pod layout vm-per-pod)',
  };
}
