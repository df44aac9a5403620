// The pod VM's resolv.conf as the kubelet decides it (pkg/kubelet/network/dns/dns.go): dnsPolicy
// ClusterFirst (cluster DNS server, the namespace's search path, ndots:5), Default (the VCH's own
// resolver), None (dnsConfig only), with dnsConfig merged on top. Docker writes the sandbox's
// resolv.conf from Dns/DnsSearch/DnsOptions and falls back to the VCH host's for what is not given.
import type { V1Pod } from '@kubernetes/client-node';
import type { DnsConfig } from '../../vch/types.js';

export interface ClusterDnsConfig {
  /** The cluster DNS server(s) (kubelet --cluster-dns); none: ClusterFirst falls back to Default. */
  clusterDns?: string[];
  /** kubelet --cluster-domain. */
  clusterDomain?: string;
}

export interface PodDns {
  dns: DnsConfig;
  /** The kubelet's warning when ClusterFirst cannot be honoured. */
  fallback?: { reason: string; message: string };
}

// glibc reads at most 3 nameservers and 32 search domains (the kubelet's validation limits).
const maxNameservers = 3;
const maxSearches = 32;

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** dnsConfig options merged over `base`: a later option of the same name replaces the earlier. */
function mergeOptions(base: string[], options: Array<{ name?: string; value?: string }>): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0] ?? o, o);
  for (const o of options) {
    if (!o.name) continue;
    byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  }
  return [...byName.values()];
}

export function podDns(pod: V1Pod, config: ClusterDnsConfig): PodDns {
  const spec = pod.spec;
  const namespace = pod.metadata?.namespace ?? 'default';
  const domain = config.clusterDomain ?? 'cluster.local';
  let policy = spec?.dnsPolicy ?? 'ClusterFirst';
  let fallback: PodDns['fallback'];
  // A host-network pod is refused at admission, so ClusterFirstWithHostNet means ClusterFirst here.
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && !config.clusterDns?.length) {
    policy = 'Default';
    fallback = {
      reason: 'MissingClusterDNS',
      message: `pod: "${pod.metadata?.name}_${namespace}(${pod.metadata?.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
    };
  }
  let nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (policy === 'ClusterFirst') {
    nameservers = [...(config.clusterDns ?? [])];
    searches = [`${namespace}.svc.${domain}`, `svc.${domain}`, domain];
    options = ['ndots:5'];
  }
  const extra = spec?.dnsConfig;
  if (extra) {
    nameservers = unique([...nameservers, ...(extra.nameservers ?? [])]);
    searches = unique([...searches, ...(extra.searches ?? [])]);
    options = mergeOptions(options, extra.options ?? []);
  }
  const dns: DnsConfig = {};
  if (nameservers.length) dns.nameservers = nameservers.slice(0, maxNameservers);
  if (searches.length) dns.searches = searches.slice(0, maxSearches);
  if (options.length) dns.options = options;
  return { dns, ...(fallback ? { fallback } : {}) };
}
