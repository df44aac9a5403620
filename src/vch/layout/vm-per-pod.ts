// The vm-per-pod layout: for a VCH that gives every container its own VM (vSphere Integrated
// Containers). The pod's one long-running container is the pod VM: it owns the pod IP, hostname,
// ports and DNS itself, with no sandbox beside it. Init containers run before it, one after another,
// each as its own short-lived VM. Nothing here asks for what VIC's Docker personality refuses:
// no `container:` network, IPC or PID mode, no host bind mounts, no privileges.
import type Docker from 'dockerode';
import { VicError } from '../../shared/errors.js';
import { podHostname, processOptions, type ImageCommand } from '../container-config.js';
import { buildLabels, dockerName, specHash } from '../labels.js';
import type { ContainerSpec, PodVmSpec, Resources } from '../types.js';
import { appliedFrom } from '../update.js';
import { podVolumeDockerName } from '../volumes.js';
import { layoutLimits, VIC_VM_SIZING, vmSizeFor, type LayoutSettings } from './limits.js';

export interface VmMemberOptions {
  role: 'init' | 'app';
  index: number;
  attempt: number;
  image: ImageCommand;
}

/**
 * The size of a container VM (limits.ts vmSizeFor: limit else request, within VIC's floor and memory
 * alignment): `--memory`, and `--cpuset-cpus`, which VIC reads as a vCPU count (vmware/vic
 * lib/apiservers/engine/backends/container.go, validateCreateConfig). What the container does not ask
 * for is left out: VIC gives its default (2 vCPUs, 2 GiB) itself, the size admission counted.
 */
export function vmSize(resources: Resources | undefined): Docker.HostConfig {
  const memory = resources?.limits?.memoryBytes ?? resources?.requests?.memoryBytes;
  const cpu = resources?.limits?.nanoCpus ?? resources?.requests?.nanoCpus;
  const size = vmSizeFor(VIC_VM_SIZING, {
    ...(memory !== undefined ? { memoryBytes: memory } : {}),
    ...(cpu !== undefined ? { milliCpu: cpu / 1e6 } : {}),
  });
  return {
    ...(memory !== undefined && memory > 0 ? { Memory: size.memoryBytes } : {}),
    ...(cpu !== undefined && cpu > 0 ? { CpusetCpus: String(size.cpus) } : {}),
  };
}

/** What this layout cannot lay out, checked again here so that src/vch never half-creates a pod VM. */
export function checkVmPerPod(spec: PodVmSpec): void {
  const limits = layoutLimits('vm-per-pod');
  const why = (what: string) =>
    new VicError('Invalid', `pod VM ${spec.pod.namespace}/${spec.pod.name}: ${what}: ${limits.because}`);
  if (spec.containers.length > (limits.maxAppContainers ?? Infinity)) {
    throw why(`${spec.containers.length} long-running containers, at most ${limits.maxAppContainers}`);
  }
  if (spec.shareProcessNamespace) throw why('shareProcessNamespace is not possible');
  if (spec.hostAliases?.length && !limits.settings.extraHosts) throw why('host aliases cannot be added');
  if (spec.sysctls && Object.keys(spec.sysctls).length && !limits.settings.sysctls) {
    throw why('sysctls cannot be set');
  }
  for (const c of spec.containers) {
    const bound = (c.ports ?? []).find((p) => p.hostIP && p.hostIP !== '0.0.0.0');
    if (bound && !limits.hostIP) throw why(`container "${c.name}" binds host address ${bound.hostIP}`);
  }
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const lacking = securityLacking(c, limits.settings);
    if (lacking.length) throw why(`container "${c.name}" asks for ${lacking.join(', ')}`);
    for (const m of c.volumeMounts ?? []) {
      if (m.source.startsWith('/')) {
        throw why(`container "${c.name}" mounts host path ${m.source}; only named volumes can be mounted`);
      }
    }
  }
}

/** The process settings a container asks for that the layout cannot give, by their Docker names. */
function securityLacking(c: ContainerSpec, settings: LayoutSettings): string[] {
  const s = c.security;
  if (!s) return [];
  const lacking: string[] = [];
  if ((s.uid !== undefined || s.gid !== undefined) && !settings.user) lacking.push('User');
  if (s.supplementalGroups?.length && !settings.supplementalGroups) lacking.push('GroupAdd');
  if (s.readOnlyRootfs && !settings.readOnlyRootfs) lacking.push('ReadonlyRootfs');
  if (s.noNewPrivileges && !settings.noNewPrivileges) lacking.push('no-new-privileges');
  if ((s.capAdd?.length || s.capDrop?.length) && !settings.capabilities) lacking.push('CapAdd/CapDrop');
  return lacking;
}

export function vmPerPodCreateOptions(
  spec: PodVmSpec,
  container: ContainerSpec,
  options: VmMemberOptions,
): Docker.ContainerCreateOptions {
  const grace = spec.terminationGracePeriodSeconds;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  // Only the app container owns the pod's ports: an init container's VM has an address of its own.
  for (const p of options.role === 'app' ? (container.ports ?? []) : []) {
    const key = `${p.containerPort}/${(p.protocol ?? 'TCP').toLowerCase()}`;
    exposed[key] = {};
    if (p.hostPort !== undefined && p.hostPort > 0) {
      (bindings[key] ??= []).push({
        HostPort: String(p.hostPort),
        ...(p.hostIP ? { HostIp: p.hostIP } : {}),
      });
    }
  }
  return {
    name: dockerName(spec.pod, container.name, options.attempt),
    ...processOptions(spec, container, options.image),
    Hostname: podHostname(spec),
    ...(spec.domainname ? { Domainname: spec.domainname } : {}),
    ExposedPorts: exposed,
    Labels: buildLabels({
      nodeName: spec.nodeName,
      pod: spec.pod,
      containerName: container.name,
      role: options.role,
      attempt: options.attempt,
      index: options.index,
      specHash: specHash(container),
      layout: 'vm-per-pod',
      askedResources: appliedFrom(container.resources),
      // Every container carries the grace period: there is no sandbox to hold it.
      ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
    }),
    HostConfig: {
      ...vmSize(container.resources),
      PortBindings: bindings,
      RestartPolicy: { Name: 'no' },
      ...(spec.dns?.nameservers?.length ? { Dns: spec.dns.nameservers } : {}),
      ...(spec.dns?.searches?.length ? { DnsSearch: spec.dns.searches } : {}),
      ...(spec.dns?.options?.length ? { DnsOptions: spec.dns.options } : {}),
      // Named volumes as `name:path:flags` Binds: VIC reads HostConfig.Binds and ignores Mounts
      // (vmware/vic lib/apiservers/engine/proxy/storage_proxy.go, processVolumeParam).
      ...(container.volumeMounts?.length
        ? {
            Binds: container.volumeMounts.map(
              (m) => `${podVolumeDockerName(spec, m.source)}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`,
            ),
          }
        : {}),
    },
  };
}
