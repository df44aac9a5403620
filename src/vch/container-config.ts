// Pure translation of a pod VM spec into Docker create bodies: the sandbox, each pod container
// joined to the sandbox's namespaces, Kubernetes command/args semantics and resource limits.
import type Docker from 'dockerode';
import { VicError } from '../shared/errors.js';
import { buildLabels, dockerName, SANDBOX_NAME, specHash } from './labels.js';
import type {
  ContainerRole,
  ContainerSecurity,
  ContainerSpec,
  PodVmSpec,
  Resources,
  VolumeMount,
} from './types.js';
import { podVolumeDockerName, sandboxVolumePath } from './volumes.js';

export interface ImageCommand {
  entrypoint: string[];
  cmd: string[];
  /** The image's USER (`name`, `uid`, `uid:gid`...), where known. */
  user?: string;
}

/**
 * What the container runs, as Kubernetes defines it: `command` replaces ENTRYPOINT and drops the
 * image CMD; `args` replaces CMD; either alone keeps the other part of the image.
 */
export function resolveCommand(container: ContainerSpec, image: ImageCommand): ImageCommand {
  const entrypoint = container.command ?? image.entrypoint;
  const cmd = container.args ?? (container.command !== undefined ? [] : image.cmd);
  if (entrypoint.length === 0 && cmd.length === 0) {
    throw new VicError(
      'Invalid',
      `container "${container.name}": image "${container.image}" has no ENTRYPOINT or CMD and the container sets no command`,
      { details: { container: container.name } },
    );
  }
  return { entrypoint, cmd };
}

// Docker refuses less than 0.01 CPU (NanoCpus); a smaller limit still means "almost nothing".
const MIN_NANO_CPUS = 10_000_000;
// dockershim's conversion: 1 CPU = 1024 shares, never below 2.
const MIN_SHARES = 2;

export function resourceConfig(resources: Resources | undefined): Docker.HostConfig {
  const host: Docker.HostConfig = {};
  const limits = resources?.limits;
  const requests = resources?.requests;
  if (limits?.nanoCpus !== undefined && limits.nanoCpus > 0) {
    host.NanoCpus = Math.max(MIN_NANO_CPUS, Math.round(limits.nanoCpus));
  }
  if (requests?.nanoCpus !== undefined && requests.nanoCpus > 0) {
    host.CpuShares = Math.max(MIN_SHARES, Math.floor((requests.nanoCpus * 1024) / 1e9));
  }
  if (limits?.memoryBytes !== undefined && limits.memoryBytes > 0)
    host.Memory = Math.round(limits.memoryBytes);
  if (requests?.memoryBytes !== undefined && requests.memoryBytes > 0) {
    host.MemoryReservation = Math.round(requests.memoryBytes);
  }
  return host;
}

/**
 * The pod's envelope, as Kubernetes computes a pod's effective limit: the larger of the sum over app
 * containers and the largest init container; only when every app container has a limit.
 */
export function podEnvelope(spec: PodVmSpec): Resources {
  const envelope = (pick: (c: ContainerSpec) => number | undefined): number | undefined => {
    let total = 0;
    for (const c of spec.containers) {
      const v = pick(c);
      if (v === undefined || v <= 0) return undefined;
      total += v;
    }
    if (spec.containers.length === 0) return undefined;
    for (const c of spec.initContainers ?? []) total = Math.max(total, pick(c) ?? 0);
    return total;
  };
  const limits: { nanoCpus?: number; memoryBytes?: number } = {};
  const cpu = envelope((c) => c.resources?.limits?.nanoCpus);
  const memory = envelope((c) => c.resources?.limits?.memoryBytes);
  if (cpu !== undefined) limits.nanoCpus = cpu;
  if (memory !== undefined) limits.memoryBytes = memory;
  return { limits };
}

/** A pod's hostname as kubelet makes it: at most 63 characters, no trailing dash or dot. */
export function podHostname(spec: PodVmSpec): string {
  return (spec.hostname ?? spec.pod.name).slice(0, 63).replace(/[-.]+$/, '');
}

// ---- Security and hosts (the spec helper's block) ---------------------------------------------

/**
 * Config.User from the uid and gid asked: as the dockershim wrote it ("uid" or "uid:gid"). A gid
 * without a uid keeps the image's user (root when it names none), as containerd does, where the
 * dockershim refused it.
 */
export function dockerUser(security: ContainerSecurity | undefined, image: ImageCommand): string | undefined {
  if (security?.uid === undefined && security?.gid === undefined) return undefined;
  const imageUser = (image.user ?? '').split(':')[0] || '0';
  const user = security.uid !== undefined ? String(security.uid) : imageUser;
  return security.gid !== undefined ? `${user}:${security.gid}` : user;
}

/** The HostConfig fields of a container's process settings (dockershim's modifyHostConfig). */
export function securityHostConfig(security: ContainerSecurity | undefined): Docker.HostConfig {
  if (!security) return {};
  const host: Docker.HostConfig = {};
  if (security.supplementalGroups?.length) host.GroupAdd = security.supplementalGroups.map(String);
  if (security.readOnlyRootfs) host.ReadonlyRootfs = true;
  if (security.capAdd?.length) host.CapAdd = security.capAdd;
  if (security.capDrop?.length) host.CapDrop = security.capDrop;
  const opts: string[] = [];
  if (security.noNewPrivileges) opts.push('no-new-privileges');
  if (security.seccompUnconfined) opts.push('seccomp=unconfined');
  if (opts.length) host.SecurityOpt = opts;
  return host;
}

/**
 * The pod's hosts-file lines and sysctls, on the sandbox. Docker writes /etc/hosts for the sandbox
 * (localhost lines, then ExtraHosts, then the pod IP with `hostname.domainname hostname`) and every
 * container that joins the sandbox's network namespace gets that same file: so each container sees
 * the kubelet's entries (its pod IP, FQDN and hostname; the hostAliases), though in Docker's order
 * and without the kubelet's "Kubernetes-managed" comments. Docker cannot take the file's content
 * through its API before the pod IP is known, and rewriting it afterwards would race with the
 * engine, which rewrites it itself. The sysctls are namespaced to the net and IPC namespaces the
 * sandbox owns, so they are set there once, for all its containers.
 */
export function sandboxPodConfig(spec: PodVmSpec): {
  config: Pick<Docker.ContainerCreateOptions, 'Domainname'>;
  host: Docker.HostConfig;
} {
  const host: Docker.HostConfig = {};
  const extra = (spec.hostAliases ?? []).flatMap((a) => a.hostnames.map((h) => `${h}:${a.ip}`));
  if (extra.length) host.ExtraHosts = extra;
  if (spec.sysctls && Object.keys(spec.sysctls).length) host.Sysctls = { ...spec.sysctls };
  return { config: spec.domainname ? { Domainname: spec.domainname } : {}, host };
}

export interface SandboxOptions {
  image: string;
  attempt: number;
}

export function sandboxCreateOptions(
  spec: PodVmSpec,
  options: SandboxOptions,
): Docker.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  // Ports live on the sandbox: Docker refuses ExposedPorts on a container that joins another's network.
  for (const c of spec.containers) {
    for (const p of c.ports ?? []) {
      const key = `${p.containerPort}/${(p.protocol ?? 'TCP').toLowerCase()}`;
      exposed[key] = {};
      if (p.hostPort !== undefined && p.hostPort > 0) {
        (bindings[key] ??= []).push({
          HostPort: String(p.hostPort),
          ...(p.hostIP ? { HostIp: p.hostIP } : {}),
        });
      }
    }
  }
  const grace = spec.terminationGracePeriodSeconds;
  const pod = sandboxPodConfig(spec);
  return {
    name: dockerName(spec.pod, SANDBOX_NAME, options.attempt),
    Image: options.image,
    Hostname: podHostname(spec),
    ...pod.config,
    Labels: buildLabels({
      nodeName: spec.nodeName,
      pod: spec.pod,
      containerName: SANDBOX_NAME,
      role: 'sandbox',
      attempt: options.attempt,
      index: 0,
      ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
    }),
    ExposedPorts: exposed,
    HostConfig: {
      ...resourceConfig(podEnvelope(spec)),
      PortBindings: bindings,
      // Other containers can only join an IPC namespace that was made shareable.
      IpcMode: 'shareable',
      RestartPolicy: { Name: 'no' },
      // Every pod volume, so that content and volume roots can be written through the sandbox (the
      // archive endpoint): a claim's store volume too, whose root takes the pod's fsGroup.
      Mounts: (spec.volumes ?? []).map((v) => ({
        Type: 'volume' as const,
        Source: podVolumeDockerName(spec, v.name),
        Target: sandboxVolumePath(v.name),
        VolumeOptions: noCopy,
      })),
      ...(spec.dns?.nameservers?.length ? { Dns: spec.dns.nameservers } : {}),
      ...(spec.dns?.searches?.length ? { DnsSearch: spec.dns.searches } : {}),
      ...(spec.dns?.options?.length ? { DnsOptions: spec.dns.options } : {}),
      ...pod.host,
    },
  };
}

// The typings call Labels and DriverConfig required; the Docker API does not.
const noCopy = { NoCopy: true } as NonNullable<Docker.MountSettings['VolumeOptions']>;

/**
 * A container's mount of a pod volume: always a named volume on the VCH, never a host path (the VCH
 * may be remote). NoCopy: Docker would otherwise copy the image's files at that path into a new
 * volume, which a Kubernetes volume never shows.
 */
function volumeMount(spec: PodVmSpec, container: ContainerSpec, m: VolumeMount) {
  if (!(spec.volumes ?? []).some((v) => v.name === m.source)) {
    throw new VicError(
      'Invalid',
      `container "${container.name}" mounts volume "${m.source}", which the pod VM does not have`,
      { details: { container: container.name } },
    );
  }
  return {
    Type: 'volume' as const,
    Source: podVolumeDockerName(spec, m.source),
    Target: m.containerPath,
    ReadOnly: m.readOnly ?? false,
    VolumeOptions: noCopy,
  };
}

export interface MemberOptions {
  sandboxId: string;
  role: Exclude<ContainerRole, 'sandbox'>;
  index: number;
  attempt: number;
  /** See Label.backoffFrom. */
  backoffFrom?: number;
  image: ImageCommand;
  /** An ephemeral container's target: the Docker ID whose PID namespace it joins. */
  pidTargetId?: string;
}

/** The container's process as both layouts create it: image, user, command, env, terminal, stop. */
export function processOptions(
  spec: PodVmSpec,
  container: ContainerSpec,
  image: ImageCommand,
): Docker.ContainerCreateOptions {
  const { entrypoint, cmd } = resolveCommand(container, image);
  const grace = spec.terminationGracePeriodSeconds;
  const user = dockerUser(container.security, image);
  return {
    Image: container.image,
    ...(user !== undefined ? { User: user } : {}),
    // An empty list (not absent) tells Docker not to fall back to the image's ENTRYPOINT.
    Entrypoint: entrypoint,
    Cmd: cmd,
    Env: (container.env ?? []).map((e) => `${e.name}=${e.value}`),
    ...(container.workingDir ? { WorkingDir: container.workingDir } : {}),
    Tty: container.tty ?? false,
    OpenStdin: container.stdin ?? false,
    StdinOnce: container.stdinOnce ?? false,
    ...(grace !== undefined ? { StopTimeout: grace } : {}),
    ...(container.stopSignal ? { StopSignal: container.stopSignal } : {}),
  };
}

export function containerCreateOptions(
  spec: PodVmSpec,
  container: ContainerSpec,
  options: MemberOptions,
): Docker.ContainerCreateOptions {
  const joined = `container:${options.sandboxId}`;
  return {
    name: dockerName(spec.pod, container.name, options.attempt),
    ...processOptions(spec, container, options.image),
    Labels: buildLabels({
      nodeName: spec.nodeName,
      pod: spec.pod,
      containerName: container.name,
      role: options.role,
      attempt: options.attempt,
      index: options.index,
      specHash: specHash(container),
      ...(options.backoffFrom !== undefined ? { backoffFrom: options.backoffFrom } : {}),
    }),
    HostConfig: {
      ...resourceConfig(container.resources),
      ...securityHostConfig(container.security),
      NetworkMode: joined,
      IpcMode: joined,
      // The kubelet's NamespaceMode_TARGET for `kubectl debug --target` (dockershim wrote the same).
      ...(options.pidTargetId
        ? { PidMode: `container:${options.pidTargetId}` }
        : spec.shareProcessNamespace
          ? { PidMode: joined }
          : {}),
      RestartPolicy: { Name: 'no' },
      Mounts: [
        ...(container.volumeMounts ?? []).map((m) => volumeMount(spec, container, m)),
        // The one path on the VCH host a container mounts: its termination-message file, kept in the
        // sandbox's writable layer (sandbox-file.ts).
        ...(container.terminationMessageFile
          ? [
              {
                Type: 'bind' as const,
                Source: container.terminationMessageFile.source,
                Target: container.terminationMessageFile.containerPath,
              },
            ]
          : []),
      ],
    },
  };
}
