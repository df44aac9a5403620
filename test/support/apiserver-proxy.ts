// The API server behind a TCP proxy that a test can cut, for one vic-kubelet only: a kubeconfig like the
// test environment's whose server is the proxy. TLS passes through untouched, so the API server's
// certificate (it names 127.0.0.1) is still what the client checks. The shared API server itself is
// never stopped: every other test keeps using it directly.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { testEnv } from './env.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ApiServerProxy {
  proxy: TcpProxy;
  /** A kubeconfig file whose server is the proxy. */
  kubeconfig: string;
}

export async function apiServerProxy(): Promise<ApiServerProxy> {
  const kc = new k8s.KubeConfig();
  // The same identity vic-kubelet runs with elsewhere (scripts/kubelet-kubeconfig.sh when set).
  kc.loadFromFile(process.env.VK_E2E_KUBELET_KUBECONFIG ?? testEnv.kubeconfig);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the test kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  const proxy = await TcpProxy.start({
    upstream: { host: server.hostname, port: Number(server.port || 443) },
  });
  const proxied = new k8s.KubeConfig();
  proxied.loadFromOptions({
    clusters: kc.clusters.map((c) =>
      c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${proxy.port}` } : c,
    ),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  const dir = mkdtempSync(join(tmpdir(), 'vk-apiproxy-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, proxied.exportConfig(), { mode: 0o600 });
  return { proxy, kubeconfig };
}
