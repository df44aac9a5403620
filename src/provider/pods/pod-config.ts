// What pods are told about the cluster and themselves: the API server they reach and the cluster DNS
// (node configuration), and the downward API context of one pass.
import type { V1Pod } from '@kubernetes/client-node';
import type { PodVmStatus } from '../../vch/types.js';
import type { NodeAllocatable } from './admission.js';
import type { DownwardContext } from './downward-api.js';
import type { ClusterDnsConfig } from './pod-dns.js';
import type { ProbeNetwork } from './probes/network-route.js';

export interface PodConfig extends ClusterDnsConfig {
  /** host:port of the API server as pod VMs reach it (KUBERNETES_SERVICE_HOST/PORT). */
  kubernetesServiceAddress?: { host: string; port: number };
  /** Where network probes run from (--probe-network). */
  probeNetwork?: ProbeNetwork;
}

/** What the downward API tells a pod about itself and its node. */
export function downwardContext(
  node: { hostIP: string; allocatable: () => NodeAllocatable },
  pod: V1Pod,
  status: PodVmStatus | undefined,
): DownwardContext {
  return {
    pod,
    hostIPs: [node.hostIP],
    nodeAllocatable: node.allocatable(),
    ...(status?.podIP ? { podIPs: [status.podIP] } : {}),
  };
}
