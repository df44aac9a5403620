// What volumes add to a pod start, interleaved in one run so that drift in load falls on every kind
// alike: no volume at all (the floor here), only the automatic kube-api-access volume (a TokenRequest
// and a projected write), and three volumes (configMap, secret, emptyDir).
import { performance } from 'node:perf_hooks';
import type * as k8s from '@kubernetes/client-node';
import { podOn, shell } from '../../test/support/pods.js';
import type { BenchContext } from '../lib/context.js';
import { startBenchNode } from '../lib/bench-node.js';
import { PodWatch } from '../lib/pod-watch.js';
import { benchNamespace, core } from '../lib/pods.js';
import { percentile } from '../lib/stats.js';

type Kind = 'none' | 'token' | 'three';
const labels: Record<Kind, string> = {
  none: 'no volume',
  token: 'kube-api-access only',
  three: 'configMap + secret + emptyDir',
};

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

const ready = (pod: k8s.V1Pod): boolean => pod.status?.containerStatuses?.[0]?.ready === true;

export async function volumes(ctx: BenchContext): Promise<void> {
  const node = await startBenchNode({ label: 'volumes' });
  const ns = await benchNamespace('bench-volumes');
  const watch = await PodWatch.start(ns.name);
  try {
    await core().createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'bench-config' }, data: { 'app.conf': 'a=1\n', level: '3' } },
    });
    await core().createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'bench-secret' }, stringData: { password: 'bench' } },
    });
    const times: Record<Kind, number[]> = { none: [], token: [], three: [] };
    for (let i = 0; i < ctx.scale.volumePods; i++) {
      for (const kind of ['none', 'token', 'three'] as const) {
        const name = `${kind}-${i}`;
        const seen = watch.whenPod(name, 'Ready', ready);
        const created = performance.now();
        await core().createNamespacedPod({
          namespace: ns.name,
          body: { metadata: { name }, spec: spec(node.nodeName, kind) },
        });
        times[kind].push((await seen) - created);
        await core().deleteNamespacedPod({ name, namespace: ns.name, gracePeriodSeconds: 0 });
      }
    }
    for (const kind of ['token', 'three'] as const) {
      ctx.report.add('volumes', {
        figure: `pod start p50, ${labels[kind]} (no volume)`,
        unit: 'ms',
        ours: percentile(times[kind], 50),
        floor: percentile(times.none, 50),
        n: ctx.scale.volumePods,
      });
    }
  } finally {
    watch.stop();
    await ns.close();
    await node.close();
  }
}
