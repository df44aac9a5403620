// A pod's hostname, domain and hosts-file lines as a kubelet makes them (kubernetes
// pkg/kubelet/kubelet_pods.go GeneratePodHostNameAndDomain, managedHostsFileContent;
// kuberuntime_sandbox.go for setHostnameAsFQDN). How they reach /etc/hosts on the VCH is
// src/vch/container-config.ts's business (sandboxPodConfig).
import type { V1Pod } from '@kubernetes/client-node';
import type { HostEntry } from '../../vch/types.js';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
// A hostname is at most 63 characters; an FQDN used as a hostname at most 64 (the kernel's limit).
const HOSTNAME_MAX = 63;
const FQDN_MAX = 64;

export interface PodHostnames {
  /** The kernel hostname of the pod's containers. */
  hostname: string;
  /** `<subdomain>.<namespace>.svc.<cluster domain>`, when the pod has a subdomain. */
  domainname?: string;
  hostAliases?: HostEntry[];
}

export function podHostnames(pod: V1Pod, clusterDomain = DEFAULT_CLUSTER_DOMAIN): PodHostnames {
  const name = pod.metadata?.name ?? '';
  let hostname = (pod.spec?.hostname || name).slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
  const subdomain = pod.spec?.subdomain;
  const domainname = subdomain
    ? `${subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`
    : undefined;
  const out: PodHostnames = { hostname };
  if (domainname) {
    if (pod.spec?.setHostnameAsFQDN) {
      // The kernel hostname is the FQDN itself; Docker then names the pod IP by it alone.
      hostname = `${hostname}.${domainname}`;
      out.hostname = hostname;
    } else {
      out.domainname = domainname;
    }
  }
  const aliases = (pod.spec?.hostAliases ?? [])
    .filter((a) => a.ip && a.hostnames?.length)
    .map((a) => ({ ip: a.ip, hostnames: [...(a.hostnames ?? [])] }));
  if (aliases.length) out.hostAliases = aliases;
  return out;
}

/** The kubelet's words when setHostnameAsFQDN makes a hostname longer than the kernel takes. */
export function fqdnTooLong(pod: V1Pod, clusterDomain = DEFAULT_CLUSTER_DOMAIN): string | undefined {
  if (!pod.spec?.setHostnameAsFQDN || !pod.spec.subdomain) return undefined;
  const fqdn = podHostnames(pod, clusterDomain).hostname;
  if (fqdn.length <= FQDN_MAX) return undefined;
  return `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (${FQDN_MAX} characters is the max, ${fqdn.length} characters requested)`;
}
