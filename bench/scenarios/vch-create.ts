// What a pod VM costs over the bare engine below Kubernetes: create+start+remove of a one-container
// pod VM through src/vch (a sandbox and the container) against the same pod VM made with dockerode,
// interleaved in one run.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { testEnv, uniqueName } from '../../test/support/env.js';
import { removePodVms } from '../../test/support/vic-kubelet.js';
import { createVch } from '../../src/vch/index.js';
import type { PodVmSpec } from '../../src/vch/types.js';
import type { BenchContext } from '../lib/context.js';
import { onCleanup } from '../lib/cleanup.js';
import { createRawPodVm } from '../lib/raw-engine.js';
import { percentile } from '../lib/stats.js';

export async function vchCreate(ctx: BenchContext): Promise<void> {
  const nodeName = uniqueName('vk-bench-vch');
  const vch = createVch({ endpoint: testEnv.dockerHost, nodeName, sandboxImage: testEnv.pauseImage });
  const close = onCleanup('src/vch pod VMs', async () => {
    vch.close();
    await removePodVms(nodeName);
  });
  const spec = (): PodVmSpec => ({
    pod: { namespace: 'bench', name: 'bench', uid: randomUUID() },
    nodeName,
    containers: [{ name: 'app', image: testEnv.pauseImage, imagePullPolicy: 'IfNotPresent' }],
    terminationGracePeriodSeconds: 0,
  });
  const viaVch = async (): Promise<number> => {
    const s = spec();
    const started = performance.now();
    await vch.pods.create(s);
    await vch.pods.start(s.pod.uid);
    await vch.pods.remove(s.pod.uid);
    return performance.now() - started;
  };
  const raw = async (): Promise<number> => {
    const started = performance.now();
    const vm = await createRawPodVm({ runId: ctx.runId, layout: 'shared' });
    for (const c of vm.containers) await c.remove({ force: true });
    return performance.now() - started;
  };
  try {
    await viaVch();
    await raw();
    const ours: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < ctx.scale.startupPods; i++) {
      ours.push(await viaVch());
      floor.push(await raw());
    }
    ctx.report.add('vch', {
      figure: 'pod VM create+start+remove via src/vch, p50 (dockerode)',
      unit: 'ms',
      ours: percentile(ours, 50),
      floor: percentile(floor, 50),
      n: ctx.scale.startupPods,
    });
  } finally {
    await close();
  }
}
