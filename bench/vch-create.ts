// What a pod VM costs over the bare engine: median create+start+remove of a one-container pod VM
// through src/vch next to raw dockerode create+start+remove of one container of the same image,
// interleaved in the same run. Usage: npx tsx bench/vch-create.ts [N]
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { createVch } from '../src/vch/index.js';
import { Label } from '../src/vch/labels.js';
import type { PodVmSpec } from '../src/vch/types.js';

const endpoint = process.env.DOCKER_HOST ?? 'unix:///var/tmp/vic-kubelet-docker/docker.sock';
const image = process.env.BENCH_IMAGE ?? 'vic-test/busybox:latest';
const sandboxImage = process.env.BENCH_SANDBOX_IMAGE ?? 'vic-test/pause:latest';
const n = Number(process.argv[2] ?? 20);
const nodeName = `bench-${randomUUID().slice(0, 8)}`;

const docker = new Docker({ socketPath: endpoint.replace(/^unix:\/\//, '') });
const vch = createVch({ endpoint, nodeName, sandboxImage });

function spec(): PodVmSpec {
  return {
    pod: { namespace: 'bench', name: 'bench', uid: randomUUID() },
    nodeName,
    containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    terminationGracePeriodSeconds: 0,
  };
}

async function podVm(): Promise<number> {
  const s = spec();
  const started = performance.now();
  await vch.pods.create(s);
  await vch.pods.start(s.pod.uid);
  await vch.pods.remove(s.pod.uid);
  return performance.now() - started;
}

async function raw(): Promise<number> {
  const started = performance.now();
  const c = await docker.createContainer({
    Image: image,
    Cmd: ['sleep', '3600'],
    Labels: { [Label.node]: nodeName },
  });
  await c.start();
  await c.remove({ force: true });
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

try {
  await podVm();
  await raw();
  const vchTimes: number[] = [];
  const rawTimes: number[] = [];
  for (let i = 0; i < n; i++) {
    // Interleaved, so both see the same machine load.
    vchTimes.push(await podVm());
    rawTimes.push(await raw());
  }
  const v = median(vchTimes);
  const r = median(rawTimes);
  console.log(`pod VM (sandbox + 1 container) create+start+remove, median of ${n}: ${v.toFixed(1)} ms`);
  console.log(`raw dockerode 1 container create+start+remove,    median of ${n}: ${r.toFixed(1)} ms`);
  console.log(`ratio: ${(v / r).toFixed(2)}`);
} finally {
  vch.close();
  const left = await docker.listContainers({ all: true, filters: { label: [`${Label.node}=${nodeName}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}
