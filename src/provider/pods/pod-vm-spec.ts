// Translates a Pod into the plain pod VM spec that src/vch takes: identity, hostname, containers with
// their resolved environment, resources in VCH units, pull policy and credentials, restart policy.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type {
  ContainerSpec,
  DnsConfig,
  EnvVar,
  PodVmSpec,
  PullPolicy,
  RegistryCredential,
  RestartPolicy,
  Resources,
} from '../../vch/types.js';
import { parseMilliCpu, parseQuantity } from '../resources/quantity.js';
import { expand } from './env.js';
import { podHostnames } from './hosts.js';
import { containerSecurity, podSysctls } from './security-context.js';
import { containerMounts, podVolumeSpecs, type ClaimSources } from './volumes/plan.js';

function quantities(list: Record<string, string> | undefined): Resources['limits'] {
  if (!list) return undefined;
  const out: NonNullable<Resources['limits']> = {};
  if (list.cpu) out.nanoCpus = parseMilliCpu(list.cpu) * 1_000_000;
  if (list.memory) out.memoryBytes = parseQuantity(list.memory);
  return out;
}

export function containerSpec(c: V1Container, env: EnvVar[], pod?: V1Pod): ContainerSpec {
  const spec: ContainerSpec = { name: c.name, image: c.image ?? '', env };
  const mounts = pod ? containerMounts(pod, c) : [];
  if (mounts.length) spec.volumeMounts = mounts;
  // `$(VAR)` in command and args expands from the container's resolved env, later entries winning
  // (pkg/kubelet/kuberuntime ExpandContainerCommandAndArgs); src/vch takes them as they are.
  const values = new Map(env.map((e) => [e.name, e.value]));
  const expandAll = (list: string[]) => list.map((s) => expand(s, (name) => values.get(name)));
  if (c.command) spec.command = expandAll(c.command);
  if (c.args) spec.args = expandAll(c.args);
  if (c.workingDir) spec.workingDir = c.workingDir;
  if (c.tty) spec.tty = true;
  if (c.stdin) spec.stdin = true;
  if (c.stdinOnce) spec.stdinOnce = true;
  if (c.imagePullPolicy) spec.imagePullPolicy = c.imagePullPolicy as PullPolicy;
  if (c.lifecycle?.stopSignal) spec.stopSignal = c.lifecycle.stopSignal;
  if (c.ports) {
    spec.ports = c.ports.map((p) => ({
      containerPort: p.containerPort,
      ...(p.protocol ? { protocol: p.protocol as 'TCP' | 'UDP' | 'SCTP' } : {}),
      ...(p.hostPort ? { hostPort: p.hostPort } : {}),
      ...(p.hostPort && p.hostIP ? { hostIP: p.hostIP } : {}),
    }));
  }
  const requests = quantities(c.resources?.requests);
  const limits = quantities(c.resources?.limits);
  if (requests || limits)
    spec.resources = { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
  return spec;
}

export interface PodVmSpecInputs {
  pod: V1Pod;
  /** The cluster's DNS domain, for a pod's FQDN (default cluster.local). */
  clusterDomain?: string;
  nodeName: string;
  /** Environment per container name. */
  env: ReadonlyMap<string, EnvVar[]>;
  credentials: RegistryCredential[];
  /** The pod VM's resolver (see pod-dns.ts); by default dnsConfig alone. */
  dns?: DnsConfig;
  /** The store volumes behind the pod's claims (src/provider/storage). */
  claims?: ClaimSources;
}

export function podVmSpec({
  pod,
  nodeName,
  env,
  credentials,
  dns,
  clusterDomain,
  claims,
}: PodVmSpecInputs): PodVmSpec {
  const meta = pod.metadata ?? {};
  const spec = pod.spec;
  const of = (c: V1Container) => containerSpec(c, env.get(c.name) ?? [], pod);
  const hostname = spec?.hostname ?? meta.name ?? '';
  const vm: PodVmSpec = {
    pod: { namespace: meta.namespace ?? 'default', name: meta.name ?? '', uid: meta.uid ?? '' },
    nodeName,
    hostname,
    containers: (spec?.containers ?? []).map(of),
    restartPolicy: (spec?.restartPolicy as RestartPolicy | undefined) ?? 'Always',
    registryCredentials: credentials,
  };
  if (spec?.initContainers?.length) vm.initContainers = spec.initContainers.map(of);
  if (spec?.ephemeralContainers?.length) {
    vm.ephemeralContainers = spec.ephemeralContainers.map((c) => ({
      ...of(c),
      ...(c.targetContainerName ? { targetContainer: c.targetContainerName } : {}),
    }));
  }
  if (spec?.terminationGracePeriodSeconds !== undefined)
    vm.terminationGracePeriodSeconds = spec.terminationGracePeriodSeconds;
  if (spec?.shareProcessNamespace) vm.shareProcessNamespace = true;
  if (dns) {
    if (Object.keys(dns).length) vm.dns = dns;
  } else if (spec?.dnsConfig) {
    vm.dns = {
      ...(spec.dnsConfig.nameservers ? { nameservers: spec.dnsConfig.nameservers } : {}),
      ...(spec.dnsConfig.searches ? { searches: spec.dnsConfig.searches } : {}),
    };
  }
  // Security context and hosts (the spec helper's block): process settings per container, and the
  // pod's hostname, domain, host aliases and sysctls.
  for (const [list, specs] of [
    [spec?.initContainers ?? [], vm.initContainers ?? []],
    [spec?.containers ?? [], vm.containers],
    [spec?.ephemeralContainers ?? [], vm.ephemeralContainers ?? []],
  ] as const) {
    list.forEach((c, i) => {
      const security = pod.spec ? containerSecurity(pod, c) : undefined;
      if (security && specs[i]) specs[i].security = security;
    });
  }
  const names = podHostnames(pod, clusterDomain);
  vm.hostname = names.hostname;
  if (names.domainname) vm.domainname = names.domainname;
  if (names.hostAliases) vm.hostAliases = names.hostAliases;
  const sysctls = podSysctls(pod);
  if (sysctls) vm.sysctls = sysctls;
  const volumes = podVolumeSpecs(pod, claims);
  if (volumes.length) vm.volumes = volumes;
  return vm;
}
