// Scenario 3: status latency. A running container is killed on the engine; the time until the API
// server shows it terminated (the watch event carrying state.terminated arrives), p50 and p99, against
// the engine's own floor: the time until its event stream reports the same kind of container's death.
import { performance } from 'node:perf_hooks';
import type * as k8s from '@kubernetes/client-node';
import { docker } from '../../test/support/env.js';
import type { BenchContext } from '../lib/context.js';
import { startBenchNode } from '../lib/bench-node.js';
import { rawLabel } from '../lib/cleanup.js';
import { isRunning, PodWatch } from '../lib/pod-watch.js';
import { benchNamespace, createPods, idlePod, names } from '../lib/pods.js';
import { createRawPodVm, removeRawPodVm } from '../lib/raw-engine.js';
import { targets } from '../lib/report.js';
import { percentile } from '../lib/stats.js';

const terminated = (pod: k8s.V1Pod): boolean =>
  pod.status?.containerStatuses?.[0]?.state?.terminated !== undefined;

/** The time from a kill to its `die` event on the engine's event stream. */
async function rawDieSeen(runId: string): Promise<number> {
  const vm = await createRawPodVm({ runId, layout: 'vm-per-pod' });
  const c = vm.containers[0]!;
  const events = (await docker().getEvents({
    filters: { container: [c.id], event: ['die'], label: [`${rawLabel}=${runId}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  try {
    const seen = new Promise<number>((resolve) => events.once('data', () => resolve(performance.now())));
    const killed = performance.now();
    await c.kill();
    return (await seen) - killed;
  } finally {
    events.destroy();
    await removeRawPodVm(vm);
  }
}

export async function status(ctx: BenchContext): Promise<void> {
  const n = ctx.scale.statusPods;
  const node = await startBenchNode({ label: 'status', maxPods: n + 20 });
  const ns = await benchNamespace('bench-status');
  const watch = await PodWatch.start(ns.name);
  try {
    const pods = names('s', n);
    await createPods(
      ns.name,
      pods,
      idlePod(node.nodeName, { restartPolicy: 'Never' }),
      ctx.scale.concurrency,
    );
    await watch.when(`${n} pods Running`, (all) => [...all.values()].filter(isRunning).length === n, 600_000);
    const ours: number[] = [];
    const raw: number[] = [];
    for (const name of pods) {
      raw.push(await rawDieSeen(ctx.runId));
      const id = (watch.pods.get(name)?.status?.containerStatuses?.[0]?.containerID ?? '').replace(
        /^docker:\/\//,
        '',
      );
      if (!id)
        throw new Error(`${name} shows no container ID: ${JSON.stringify(watch.pods.get(name)?.status)}`);
      const seen = watch.whenPod(name, 'container terminated', terminated, 60_000);
      const killed = performance.now();
      await docker().getContainer(id).kill();
      ours.push((await seen) - killed);
    }
    ctx.report.add('3 status', {
      figure: 'container killed → terminated in API server, p50',
      unit: 'ms',
      ours: percentile(ours, 50),
      floor: percentile(raw, 50),
      n,
    });
    ctx.report.add('3 status', {
      figure: 'container killed → terminated in API server, p99',
      unit: 'ms',
      ours: percentile(ours, 99),
      floor: percentile(raw, 99),
      n,
      target: targets.below(500, 'ms'),
    });
  } finally {
    watch.stop();
    await ns.close();
    await node.close();
  }
}
