// What volumes cost a pod start, side by side in one run through the real cluster: pod created →
// Ready with no volume at all, with only the automatic kube-api-access volume (a TokenRequest and a
// projected write), and with three volumes (configMap, secret, emptyDir). Interleaved, so that drift
// in the machine's load falls on every kind alike. Usage: npx tsx bench/volumes.ts [N]
import { performance } from 'node:perf_hooks';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, testNamespace } from '../test/support/env.js';
import { podOn, shell } from '../test/support/pods.js';
import { VicKubelet } from '../test/support/vic-kubelet.js';

const n = Number(process.argv[2] ?? 10);
const core = kubeConfig().makeApiClient(k8s.CoreV1Api);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Kind = 'none' | 'token' | 'three';

function spec(nodeName: string, kind: Kind): k8s.V1PodSpec {
  const mounts = [
    { name: 'cfg', mountPath: '/etc/cfg' },
    { name: 'sec', mountPath: '/etc/sec' },
    { name: 'scratch', mountPath: '/scratch' },
  ];
  return podOn(nodeName, {
    terminationGracePeriodSeconds: 0,
    automountServiceAccountToken: kind === 'token',
    containers: [shell('main', 'sleep 3600', kind === 'three' ? { volumeMounts: mounts } : {})],
    ...(kind === 'three'
      ? {
          volumes: [
            { name: 'cfg', configMap: { name: 'bench-config' } },
            { name: 'sec', secret: { secretName: 'bench-secret' } },
            { name: 'scratch', emptyDir: {} },
          ],
        }
      : {}),
  });
}

const vk = await VicKubelet.start();
const ns = await testNamespace(kubeConfig(), 'bench-volumes');
try {
  await vk.waitReady();
  await core.createNamespacedConfigMap({
    namespace: ns.name,
    body: { metadata: { name: 'bench-config' }, data: { 'app.conf': 'a=1\n', level: '3' } },
  });
  await core.createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'bench-secret' }, stringData: { password: 'bench' } },
  });
  const times: Record<Kind, number[]> = { none: [], token: [], three: [] };
  for (let i = 0; i < n; i++) {
    for (const kind of ['none', 'token', 'three'] as const) {
      const name = `${kind}-${i}`;
      const created = performance.now();
      await core.createNamespacedPod({
        namespace: ns.name,
        body: { metadata: { name }, spec: spec(vk.nodeName, kind) },
      });
      await until(async () => {
        const p = await core.readNamespacedPod({ name, namespace: ns.name });
        return p.status?.containerStatuses?.[0]?.ready ? p : undefined;
      });
      times[kind].push(performance.now() - created);
      await core.deleteNamespacedPod({ name, namespace: ns.name, gracePeriodSeconds: 0 });
    }
  }
  const none = median(times.none);
  for (const kind of ['none', 'token', 'three'] as const) {
    const m = median(times[kind]);
    const label = {
      none: 'no volume',
      token: 'kube-api-access only',
      three: 'configMap + secret + emptyDir',
    }[kind];
    console.log(
      `pod created → Ready, ${label}: median ${m.toFixed(0)} ms (n=${times[kind].length}, max ${Math.max(...times[kind]).toFixed(0)} ms)` +
        (kind === 'none' ? '' : `; +${(m - none).toFixed(0)} ms over no volume`),
    );
  }
} finally {
  await ns.cleanup();
  await vk.cleanup();
}
