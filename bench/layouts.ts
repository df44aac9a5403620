// Pod start time in each pod layout next to the raw engine, in one run: a pod created → Ready through
// the real cluster, with vic-kubelet on the Docker engine (shared layout: sandbox + container), and
// with vic-kubelet on the VIC contract proxy in front of the same engine (vm-per-pod: one container);
// the raw floor is the same containers created and started straight on the engine.
// Usage: npx tsx bench/layouts.ts [N]   (after `source .cache/env/env.sh`)
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as k8s from '@kubernetes/client-node';
import { docker, kubeConfig, testEnv, testNamespace, uniqueName } from '../test/support/env.js';
import { podOn, shell } from '../test/support/pods.js';
import { VicKubelet } from '../test/support/vic-kubelet.js';
import { VIC_POOL_CAPACITY, VicProxy } from '../test/support/vic-proxy.js';

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

/** The raw floor of each layout: what its pod VM is, created and started straight on the engine. */
async function rawStart(layout: 'shared' | 'vm-per-pod'): Promise<number> {
  const engine = docker();
  const started = performance.now();
  const made: Awaited<ReturnType<typeof engine.createContainer>>[] = [];
  if (layout === 'shared') {
    const sandbox = await engine.createContainer({
      Image: testEnv.pauseImage,
      Labels: { 'vic-bench': 'raw' },
      HostConfig: { IpcMode: 'shareable' },
    });
    await sandbox.start();
    made.push(sandbox);
    const app = await engine.createContainer({
      Image: testEnv.busyboxImage,
      Cmd: ['sleep', '3600'],
      Labels: { 'vic-bench': 'raw' },
      HostConfig: { NetworkMode: `container:${sandbox.id}`, IpcMode: `container:${sandbox.id}` },
    });
    await app.start();
    made.push(app);
  } else {
    const app = await engine.createContainer({
      Image: testEnv.busyboxImage,
      Cmd: ['sleep', '3600'],
      Labels: { 'vic-bench': 'raw' },
    });
    await app.start();
    made.push(app);
  }
  const took = performance.now() - started;
  for (const c of made.reverse()) await c.remove({ force: true });
  return took;
}

async function podStarts(vk: VicKubelet, ns: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const name = `p${i}`;
    const created = performance.now();
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name },
        spec: podOn(vk.nodeName, {
          terminationGracePeriodSeconds: 0,
          containers: [shell('main', 'sleep 3600')],
        }),
      },
    });
    await until(async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns });
      return p.status?.containerStatuses?.[0]?.ready ? true : undefined;
    });
    times.push(performance.now() - created);
    await core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
  }
  return times;
}

const proxy = await VicProxy.start({
  upstream: testEnv.dockerHost.replace(/^unix:\/\//, ''),
  socket: `/var/tmp/${uniqueName('vk-bench-vic')}/docker.sock`,
});
const shared = await VicKubelet.start();
const vmPerPod = await VicKubelet.start({ args: ['--vch', proxy.endpoint, ...VIC_POOL_CAPACITY] });
const ns = await testNamespace(kubeConfig(), 'bench-layouts');
try {
  await Promise.all([shared.waitReady(), vmPerPod.waitReady()]);
  const rows: [string, number[]][] = [];
  const sharedTimes: number[] = [];
  const vmTimes: number[] = [];
  const rawShared: number[] = [];
  const rawVm: number[] = [];
  for (let round = 0; round < n; round++) {
    rawShared.push(await rawStart('shared'));
    rawVm.push(await rawStart('vm-per-pod'));
  }
  sharedTimes.push(...(await podStarts(shared, ns.name)));
  vmTimes.push(...(await podStarts(vmPerPod, ns.name)));
  rows.push(
    ['raw engine, sandbox + container', rawShared],
    ['raw engine, one container', rawVm],
    ['vic-kubelet, shared layout (Docker engine)', sharedTimes],
    ['vic-kubelet, vm-per-pod layout (VIC contract proxy)', vmTimes],
  );
  console.log(`pod created → Ready (n=${n} each), median and max:`);
  for (const [what, times] of rows) {
    console.log(`  ${what}: median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
  }
  if (proxy.refused.length) console.log(`  the VIC proxy refused: ${JSON.stringify(proxy.refused)}`);
} finally {
  await ns.cleanup();
  await shared.cleanup();
  await vmPerPod.cleanup();
  await proxy.close();
  rmSync(dirname(proxy.socket), { recursive: true, force: true });
  const left = await docker().listContainers({ all: true, filters: { label: ['vic-bench=raw'] } });
  await Promise.all(left.map((c) => docker().getContainer(c.Id).remove({ force: true })));
}
