// The plain data that crosses the vch boundary: the pod VM spec the provider hands in and the
// states it gets back. Nothing here knows Kubernetes objects; names follow Kubernetes only where
// the meaning is the same.

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
/** `ephemeral`: a debug container added to a running pod (`kubectl debug`); started once, never restarted. */
export type ContainerRole = 'sandbox' | 'init' | 'app' | 'ephemeral';

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

export interface RegistryCredential {
  /** A registry host ("127.0.0.1:15000", "docker.io"), optionally with scheme and path as in a docker config. */
  registry: string;
  username: string;
  password: string;
}

export interface EnvVar {
  name: string;
  value: string;
}

export interface ContainerPort {
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  hostPort?: number;
  hostIP?: string;
}

/** Quantities already converted: CPU in nanoCPUs (1 CPU = 1e9), memory in bytes. */
export interface ResourceQuantities {
  nanoCpus?: number;
  memoryBytes?: number;
}

export interface Resources {
  requests?: ResourceQuantities;
  limits?: ResourceQuantities;
}

/**
 * What a container runs with, in the engine's own numbers (CPU shares from the CPU request, a CPU
 * limit in nano-CPUs, memory limit and reservation in bytes); a field left out is unset.
 */
export interface AppliedResources {
  nanoCpus?: number;
  cpuShares?: number;
  memoryBytes?: number;
  memoryReservationBytes?: number;
}

/** A mount of one of the pod VM's volumes (`PodVmSpec.volumes`, by name) into a container. */
export interface VolumeMount {
  /** The name of a volume in `PodVmSpec.volumes`. */
  source: string;
  containerPath: string;
  readOnly?: boolean;
}

/** A volume of the pod VM: a named volume on the VCH, shared by every container that mounts it. */
export interface PodVolumeSpec {
  name: string;
  /** `memory`: a tmpfs shared by the pod's containers; `disk` (default): a directory on the VCH. */
  medium?: 'disk' | 'memory';
  /** The tmpfs size of a memory volume. */
  sizeBytes?: number;
  /**
   * A store volume that already exists on the VCH (volume-store.ts) and outlives the pod: mounted by
   * this name, never created or removed with the pod VM.
   */
  source?: string;
}

/** One file of a content volume (configMap, secret, downwardAPI, projected), relative to its root. */
export interface VolumeFile {
  path: string;
  data: Buffer;
  mode: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** Kubernetes `command`: replaces the image ENTRYPOINT (and drops the image CMD). */
  command?: string[];
  /** Kubernetes `args`: replaces the image CMD. */
  args?: string[];
  /** Values already resolved, as are `$(NAME)` references in command and args (the provider's work). */
  env?: EnvVar[];
  workingDir?: string;
  tty?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
  ports?: ContainerPort[];
  resources?: Resources;
  /** Defaults as Kubernetes does: Always for `:latest` or no tag, IfNotPresent otherwise. */
  imagePullPolicy?: PullPolicy;
  volumeMounts?: VolumeMount[];
  /**
   * Where the container writes its termination message: a file the VCH keeps outside the container
   * (PodVmLifecycle.sandboxFile gives its path on the VCH host), bind-mounted here so the message
   * outlives the container's tmpfs /dev.
   */
  terminationMessageFile?: { source: string; containerPath: string };
  /** How the container's process runs (user, groups, privileges); absent: as the image says. */
  security?: ContainerSecurity;
  /** An ephemeral container's target: it joins that container's PID namespace (`kubectl debug --target`). */
  targetContainer?: string;
  /** `lifecycle.stopSignal`: the signal a stop sends instead of the image's STOPSIGNAL or SIGTERM. */
  stopSignal?: string;
}

// ---- Security and hosts (the spec helper's block) ---------------------------------------------

/**
 * The process settings of one container, already merged from pod and container level. Each maps to
 * one Docker field; the capability names are as Docker and Kubernetes write them, without `CAP_`.
 */
export interface ContainerSecurity {
  /** Config.User's uid; absent: the image's user. */
  uid?: number;
  /** Config.User's gid; absent: the user's own group. */
  gid?: number;
  /** HostConfig.GroupAdd. */
  supplementalGroups?: number[];
  /** HostConfig.ReadonlyRootfs. */
  readOnlyRootfs?: boolean;
  /** SecurityOpt `no-new-privileges`. */
  noNewPrivileges?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** SecurityOpt `seccomp=unconfined`; absent: the engine's default profile. */
  seccompUnconfined?: boolean;
}

/** One line of the hosts file: an address and its names. */
export interface HostEntry {
  ip: string;
  hostnames: string[];
}

export interface DnsConfig {
  nameservers?: string[];
  searches?: string[];
  options?: string[];
}

export interface PodVmSpec {
  pod: PodIdentity;
  nodeName: string;
  hostname?: string;
  initContainers?: ContainerSpec[];
  containers: ContainerSpec[];
  registryCredentials?: RegistryCredential[];
  restartPolicy?: RestartPolicy;
  terminationGracePeriodSeconds?: number;
  dns?: DnsConfig;
  shareProcessNamespace?: boolean;
  /** The pod's domain (`<subdomain>.<namespace>.svc.<cluster domain>`): its FQDN is hostname.domainname. */
  domainname?: string;
  /** Extra lines of the pod's hosts file (hostAliases). */
  hostAliases?: HostEntry[];
  /** Namespaced kernel parameters of the pod (network and IPC namespaces), set on the sandbox. */
  sysctls?: Record<string, string>;
  /** The pod's volumes; the sandbox mounts each (content is written through it). */
  volumes?: PodVolumeSpec[];
  /** Debug containers added to the running pod; each joins the sandbox's namespaces. */
  ephemeralContainers?: ContainerSpec[];
}

// ---- What comes back -------------------------------------------------------------------------

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: Date }
  | {
      kind: 'terminated';
      exitCode: number;
      /** Completed, Error, OOMKilled, StartError. */
      reason: string;
      message?: string;
      startedAt?: Date;
      finishedAt?: Date;
    };

/** Who a container's process runs as (src/vch/process-identity.ts). */
export interface ProcessIdentity {
  uid: number;
  gid: number;
  /** The primary gid first, then every other group the process holds, without repeats. */
  supplementalGroups: number[];
}

export interface ContainerStatus {
  name: string;
  role: ContainerRole;
  attempt: number;
  /** The Docker container ID. */
  id: string;
  image: string;
  /** The Docker image ID (`sha256:...`). */
  imageId: string;
  /** `repo@sha256:...` when the image came from a registry. */
  repoDigest?: string;
  state: ContainerState;
  /** The previous attempt's end, while its container is still kept. */
  lastState?: ContainerState;
  /** The previous attempt's container ID (its termination message is read from it). */
  lastStateId?: string;
  restartCount: number;
  specHash?: string;
  /** The attempt at which the current crash back-off series began (reset after a long run). */
  backoffFrom?: number;
  /** The CPU and memory the container runs with now (an in-place resize changes them). */
  applied?: AppliedResources;
  /** The signal a stop sends (`SIGTERM` unless the spec or the image says otherwise). */
  stopSignal?: string;
  /** Who the process runs as, when the VCH lets the image's passwd and group files be read. */
  user?: ProcessIdentity;
}

export interface PodVmStatus {
  pod: PodIdentity;
  nodeName: string;
  sandbox?: ContainerStatus;
  podIP?: string;
  initContainers: ContainerStatus[];
  containers: ContainerStatus[];
  /** Ephemeral (debug) containers; absent when the pod VM has none. */
  ephemeralContainers?: ContainerStatus[];
}

/** One Docker container of a pod VM as read from labels alone (a cheap list, no inspect). */
export interface PodVmMember {
  id: string;
  /** The Docker name without the leading slash. */
  dockerName: string;
  name: string;
  role: ContainerRole;
  attempt: number;
  index: number;
  image: string;
  specHash?: string;
  /** Docker's coarse state: created, running, exited, dead, paused, restarting, removing. */
  state: string;
  createdAt: Date;
}

export interface PodVm {
  pod: PodIdentity;
  nodeName: string;
  terminationGracePeriodSeconds?: number;
  /** How the pod VM is laid out on the VCH, read back from its labels (absent: shared). */
  layout?: 'shared' | 'vm-per-pod';
  sandbox?: PodVmMember;
  /** Every container of the pod VM, every attempt still kept, sandbox excluded. */
  members: PodVmMember[];
}

export interface TerminalSize {
  width: number;
  height: number;
}
