// What users wait for, measured through the real cluster next to the raw Docker engine in the same
// run: node Ready after start, pod created → Ready, container death → status in the API server,
// graceful delete → pod gone, and vic-kubelet's memory with 0 and 50 pods. Usage: npx tsx bench/pods.ts [N]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as k8s from '@kubernetes/client-node';
import { docker, kubeConfig, testEnv, testNamespace } from '../test/support/env.js';
import { podOn, shell } from '../test/support/pods.js';
import { VicKubelet } from '../test/support/vic-kubelet.js';

const n = Number(process.argv[2] ?? 20);
const core = kubeConfig().makeApiClient(k8s.CoreV1Api);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(what: string, ours: number[], raw?: number[]): void {
  const m = median(ours);
  let line = `${what}: median ${m.toFixed(0)} ms (n=${ours.length}, max ${Math.max(...ours).toFixed(0)} ms)`;
  if (raw) line += `; raw Docker ${median(raw).toFixed(0)} ms; ratio ${(m / median(raw)).toFixed(2)}`;
  console.log(line);
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

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** The floor under a pod start: the sandbox and one container, created and started straight on the engine. */
async function rawPodStart(): Promise<number> {
  const engine = docker();
  const started = performance.now();
  const sandbox = await engine.createContainer({
    Image: testEnv.pauseImage,
    Labels: { 'vic-bench': 'raw' },
    HostConfig: { IpcMode: 'shareable' },
  });
  await sandbox.start();
  const app = await engine.createContainer({
    Image: testEnv.busyboxImage,
    Cmd: ['sleep', '3600'],
    Labels: { 'vic-bench': 'raw' },
    HostConfig: { NetworkMode: `container:${sandbox.id}`, IpcMode: `container:${sandbox.id}` },
  });
  await app.start();
  const took = performance.now() - started;
  await app.remove({ force: true });
  await sandbox.remove({ force: true });
  return took;
}

async function rawDieSeen(): Promise<number> {
  const engine = docker();
  const c = await engine.createContainer({
    Image: testEnv.busyboxImage,
    Cmd: ['sleep', '3600'],
    Labels: { 'vic-bench': 'raw' },
  });
  await c.start();
  const events = await engine.getEvents({
    filters: { container: [c.id], event: ['die'] },
  });
  const seen = new Promise<number>((resolve) => events.once('data', () => resolve(performance.now())));
  const killed = performance.now();
  await c.kill();
  const took = (await seen) - killed;
  (events as unknown as { destroy(): void }).destroy();
  await c.remove({ force: true });
  return took;
}

const spawnedAt = performance.now();
const vk = await VicKubelet.start();
const ns = await testNamespace(kubeConfig(), 'bench');
try {
  await vk.waitReady();
  console.log(`node Ready ${(performance.now() - spawnedAt).toFixed(0)} ms after the process was spawned`);
  console.log(`vic-kubelet RSS with 0 pods: ${rssMiB(vk.pid).toFixed(1)} MiB`);

  const startTimes: number[] = [];
  const rawStarts: number[] = [];
  const dieTimes: number[] = [];
  const rawDies: number[] = [];
  const deleteTimes: number[] = [];
  for (let i = 0; i < n; i++) {
    const name = `p${i}`;
    const created = performance.now();
    await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: podOn(vk.nodeName, {
          terminationGracePeriodSeconds: 0,
          containers: [shell('main', 'sleep 3600')],
        }),
      },
    });
    const pod = await until(async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns.name });
      return p.status?.containerStatuses?.[0]?.ready ? p : undefined;
    });
    startTimes.push(performance.now() - created);
    rawStarts.push(await rawPodStart());

    // A container dies on the VCH: how long until the API server says so?
    const id = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('docker://', '');
    const killed = performance.now();
    await docker().getContainer(id).kill();
    await until(async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns.name });
      const s = p.status?.containerStatuses?.[0];
      return s && (s.restartCount > 0 || s.state?.terminated || s.lastState?.terminated) ? true : undefined;
    });
    dieTimes.push(performance.now() - killed);
    rawDies.push(await rawDieSeen());

    const deleting = performance.now();
    await core.deleteNamespacedPod({ name, namespace: ns.name });
    await until(async () => {
      const list = await core.listNamespacedPod({
        namespace: ns.name,
        fieldSelector: `metadata.name=${name}`,
      });
      return list.items.length === 0 ? true : undefined;
    });
    deleteTimes.push(performance.now() - deleting);
  }
  report('pod created → Ready in the API server', startTimes, rawStarts);
  report('container died on the VCH → status in the API server', dieTimes, rawDies);
  report('pod deleted (container exits on SIGTERM) → gone from the API server', deleteTimes);

  // Memory with 50 pods running.
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      core.createNamespacedPod({
        namespace: ns.name,
        body: {
          metadata: { name: `m${i}` },
          spec: podOn(vk.nodeName, { containers: [shell('main', 'sleep 3600')] }),
        },
      }),
    ),
  );
  const burst = performance.now();
  await until(async () => {
    const list = await core.listNamespacedPod({ namespace: ns.name });
    return list.items.filter((p) => p.status?.phase === 'Running').length === 50 ? true : undefined;
  }, 300_000);
  console.log(`50 pods created at once → all Running: ${(performance.now() - burst).toFixed(0)} ms`);
  console.log(`vic-kubelet RSS with 50 pods: ${rssMiB(vk.pid).toFixed(1)} MiB`);
} finally {
  await ns.cleanup();
  await vk.cleanup();
  const left = await docker().listContainers({ all: true, filters: { label: ['vic-bench=raw'] } });
  await Promise.all(left.map((c) => docker().getContainer(c.Id).remove({ force: true })));
}
