// Service link variables as the kubelet makes them (pkg/kubelet/kubelet_pods.go getServiceEnvVarMap,
// pkg/kubelet/envvars FromServices): always the `kubernetes` service of the default namespace, and
// with enableServiceLinks every service of the pod's namespace that has a cluster IP.
//
// A pod VM cannot reach a ClusterIP (no kube-proxy on a VCH network), so the `kubernetes` service
// can be replaced by an address of the API server that pod VMs reach (--kubernetes-service-address):
// in-cluster clients read KUBERNETES_SERVICE_HOST/PORT.
import type { V1Pod, V1Service } from '@kubernetes/client-node';

export interface ServiceSources {
  /** Services of a namespace. */
  list(namespace: string): Promise<V1Service[]>;
  /** host:port of the API server as pod VMs reach it, replacing the `kubernetes` service. */
  kubernetesAddress?: { host: string; port: number };
}

function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

function hasClusterIP(s: V1Service): boolean {
  const ip = s.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The variables of one service, in the kubelet's order. */
export function serviceVariables(service: V1Service): Array<[string, string]> {
  const prefix = envName(service.metadata?.name ?? '');
  const ip = service.spec?.clusterIP ?? '';
  const ports = service.spec?.ports ?? [];
  const out: Array<[string, string]> = [[`${prefix}_SERVICE_HOST`, ip]];
  if (ports[0]) out.push([`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  ports.forEach((p, i) => {
    const protocol = (p.protocol ?? 'TCP').toLowerCase();
    const url = `${protocol}://${joinHostPort(ip, p.port)}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
    out.push(
      [portPrefix, url],
      [`${portPrefix}_PROTO`, protocol],
      [`${portPrefix}_PORT`, String(p.port)],
      [`${portPrefix}_ADDR`, ip],
    );
  });
  return out;
}

/** The `kubernetes` service as pod VMs reach it. */
function reachableKubernetes(address: { host: string; port: number }): V1Service {
  return {
    metadata: { name: 'kubernetes', namespace: 'default' },
    spec: { clusterIP: address.host, ports: [{ name: 'https', port: address.port, protocol: 'TCP' }] },
  };
}

export async function serviceEnv(pod: V1Pod, sources: ServiceSources): Promise<Map<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks ?? true;
  const chosen = new Map<string, V1Service>();
  const master = sources.kubernetesAddress
    ? reachableKubernetes(sources.kubernetesAddress)
    : (await sources.list('default')).find((s) => s.metadata?.name === 'kubernetes');
  if (master && hasClusterIP(master)) chosen.set('kubernetes', master);
  if (links) {
    for (const s of await sources.list(namespace)) {
      const name = s.metadata?.name ?? '';
      // The master service of the default namespace wins over a namesake (the kubelet's order).
      if (namespace === 'default' && name === 'kubernetes') continue;
      if (hasClusterIP(s)) chosen.set(name, s);
    }
  }
  return new Map([...chosen.values()].flatMap(serviceVariables));
}
