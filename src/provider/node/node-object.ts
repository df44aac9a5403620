// The Node object of a virtual node: its labels, taint, addresses, endpoints, nodeInfo and resources,
// built from configuration and the VCH's host facts. Pure functions, no I/O.
import type {
  V1Node,
  V1NodeAddress,
  V1NodeCondition,
  V1NodeStatus,
  V1NodeSystemInfo,
} from '@kubernetes/client-node';
import { formatBytes, formatMilliCpu, parseMilliCpu, parseQuantity } from '../resources/quantity.js';
import type { HostFacts, NodeConfig, ResourceList, ResourceName } from './types.js';

export const taintAnnotation = 'vic-kubelet.io/taint-key';
/** The VCH's identity, abilities and pod layout as JSON; the labels below let an operator select on them. */
export const abilitiesAnnotation = 'vic-kubelet.io/vch-abilities';
export const layoutLabel = 'vic-kubelet.io/layout';
export const productLabel = 'vic-kubelet.io/vch-product';

/** Docker reports Go architecture names already (amd64, arm64); map the few that differ. */
export function kubernetesArch(arch: string): string {
  const map: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm' };
  return map[arch] ?? arch;
}

export function nodeLabels(
  config: NodeConfig,
  facts: Pick<HostFacts, 'osType' | 'architecture' | 'vch'>,
): Record<string, string> {
  return {
    type: 'virtual-kubelet',
    'kubernetes.io/role': 'agent',
    'kubernetes.io/os': facts.osType || 'linux',
    'kubernetes.io/arch': kubernetesArch(facts.architecture),
    'kubernetes.io/hostname': config.nodeName,
    'beta.kubernetes.io/os': facts.osType || 'linux',
    'beta.kubernetes.io/arch': kubernetesArch(facts.architecture),
    ...(facts.vch ? { [layoutLabel]: facts.vch.layout, [productLabel]: facts.vch.product } : {}),
    ...config.labels,
  };
}

/** The Node metadata that says what the VCH is and can do: patched again when a new reading differs. */
export function vchMetadata(vch: NonNullable<HostFacts['vch']>): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  return {
    labels: { [layoutLabel]: vch.layout, [productLabel]: vch.product },
    annotations: { [abilitiesAnnotation]: JSON.stringify(vch.abilities) },
  };
}

export function nodeObject(config: NodeConfig, facts: HostFacts): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: config.nodeName,
      labels: nodeLabels(config, facts),
      // Remembers which taint is ours, so a restart with another taint (or none) can remove it.
      annotations: {
        [taintAnnotation]: config.taint?.key ?? '',
        ...(facts.vch ? { [abilitiesAnnotation]: JSON.stringify(facts.vch.abilities) } : {}),
      },
    },
    spec: { taints: config.taint ? [{ ...config.taint }] : [] },
  };
}

export function nodeInfo(config: NodeConfig, facts: HostFacts): V1NodeSystemInfo {
  return {
    architecture: kubernetesArch(facts.architecture),
    bootID: facts.bootId,
    containerRuntimeVersion: `${facts.engineName}://${facts.engineVersion}`,
    kernelVersion: facts.kernelVersion,
    kubeProxyVersion: '',
    kubeletVersion: config.kubeletVersion,
    machineID: facts.machineId,
    operatingSystem: facts.osType || 'linux',
    osImage: facts.operatingSystem,
    systemUUID: facts.systemUuid,
  };
}

export function nodeAddresses(config: NodeConfig, hostnameResolves: boolean): V1NodeAddress[] {
  const addresses: V1NodeAddress[] = [{ type: 'InternalIP', address: config.internalIP }];
  // The API server may prefer a Hostname address; offer one only when it leads somewhere.
  if (hostnameResolves) addresses.push({ type: 'Hostname', address: config.nodeName });
  return addresses;
}

/**
 * status.declaredFeatures, sorted and unique as the API server validates them. ExtendWebSocketsToKubelet
 * tells an API server of 1.36+ (whose feature gate of that name is on by default) to proxy WebSocket
 * exec, attach and port-forward requests to this node unchanged, as it does for a kubelet that declares
 * it, instead of translating them to SPDY: both transports are served here.
 */
export const declaredFeatures: readonly string[] = ['ExtendWebSocketsToKubelet'];

/** The Node status as reported: V1NodeStatus of client-node 1.4 predates declaredFeatures. */
export type ReportedNodeStatus = V1NodeStatus & { declaredFeatures: string[] };

export function nodeStatus(options: {
  config: NodeConfig;
  facts: HostFacts;
  conditions: V1NodeCondition[];
  hostnameResolves: boolean;
}): ReportedNodeStatus {
  const { config, facts } = options;
  const capacity = nodeCapacity(config, facts);
  return {
    capacity,
    allocatable: nodeAllocatable(capacity, config.reserved),
    conditions: options.conditions,
    addresses: nodeAddresses(config, options.hostnameResolves),
    daemonEndpoints: { kubeletEndpoint: { Port: config.kubeletPort } },
    nodeInfo: nodeInfo(config, facts),
    declaredFeatures: [...declaredFeatures],
  };
}

/** The node's resources: cpu, memory and pods always; ephemeral-storage only when known. */
export type NodeResources = Record<Exclude<ResourceName, 'ephemeral-storage'>, string> & ResourceList;

/**
 * Capacity from the VCH, each resource replaceable by configuration. Storage the VCH does not report
 * is left out rather than written as 0: "0" would read as a measured full disk.
 */
export function nodeCapacity(config: NodeConfig, facts: HostFacts): NodeResources {
  const fromVch: NodeResources = {
    cpu: String(facts.cpus),
    memory: formatBytes(facts.memoryBytes),
    pods: String(config.defaultMaxPods),
    ...(facts.storageBytes !== undefined ? { 'ephemeral-storage': formatBytes(facts.storageBytes) } : {}),
  };
  return { ...fromVch, ...definedOnly(config.capacityOverrides) };
}

/** Capacity less the reserve, never below zero. */
export function nodeAllocatable(capacity: NodeResources, reserved: ResourceList): NodeResources {
  const less = (name: ResourceName, amount: string): string => {
    const held = reserved[name];
    if (!held) return amount;
    if (name === 'cpu') return formatMilliCpu(Math.max(0, parseMilliCpu(amount) - parseMilliCpu(held)));
    if (name === 'pods') return String(Math.max(0, parseQuantity(amount) - parseQuantity(held)));
    return formatBytes(Math.max(0, parseQuantity(amount) - parseQuantity(held)));
  };
  const storage = capacity['ephemeral-storage'];
  return {
    cpu: less('cpu', capacity.cpu),
    memory: less('memory', capacity.memory),
    pods: less('pods', capacity.pods),
    ...(storage !== undefined ? { 'ephemeral-storage': less('ephemeral-storage', storage) } : {}),
  };
}

function definedOnly(list: ResourceList): ResourceList {
  return Object.fromEntries(Object.entries(list).filter(([, v]) => v !== undefined && v !== ''));
}
