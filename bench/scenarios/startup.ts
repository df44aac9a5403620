// Scenario 1: pod start-up, one pod at a time: created in the API server → Running seen through a
// watch, p50 and p99, against the same pod VM (sandbox + container) created and started straight on
// the engine, interleaved so both see the same load. Also: node Ready after the process starts.
import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { startBenchNode } from '../lib/bench-node.js';
import { isRunning, PodWatch } from '../lib/pod-watch.js';
import { benchNamespace, core, idlePod } from '../lib/pods.js';
import { rawStartTime, type Layout } from '../lib/raw-engine.js';
import { targets } from '../lib/report.js';
import { percentile } from '../lib/stats.js';

export interface StartupOptions {
  scenario: string;
  label: string;
  layout: Layout;
  pods: number;
  vch?: string;
  /** Extra vic-kubelet flags, e.g. the VIC proxy's pool capacity. */
  args?: string[];
}

/** Pod start-up through a node against the raw floor of its layout; shared by scenarios 1 and 7. */
export async function measureStartup(ctx: BenchContext, o: StartupOptions): Promise<void> {
  const spawned = performance.now();
  const node = await startBenchNode({
    label: o.label,
    ...(o.vch ? { vch: o.vch } : {}),
    ...(o.args ? { args: o.args } : {}),
  });
  const readyMs = performance.now() - spawned;
  const ns = await benchNamespace(`bench-${o.label}`);
  const watch = await PodWatch.start(ns.name);
  try {
    const spec = idlePod(node.nodeName, { terminationGracePeriodSeconds: 1 });
    const startOne = async (name: string): Promise<number> => {
      const running = watch.whenPod(name, 'Running', isRunning);
      const created = performance.now();
      await core().createNamespacedPod({ namespace: ns.name, body: { metadata: { name }, spec } });
      return (await running) - created;
    };
    // Warm-up, not counted: the first pod pays for cold caches on both sides.
    await startOne('warm-up');
    await rawStartTime({ runId: ctx.runId, layout: o.layout });
    const ours: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < o.pods; i++) {
      raw.push(await rawStartTime({ runId: ctx.runId, layout: o.layout }));
      ours.push(await startOne(`p${i}`));
    }
    if (o.scenario === '1 start-up') {
      ctx.report.add(o.scenario, { figure: 'node Ready after spawn', unit: 'ms', ours: readyMs });
    }
    ctx.report.add(o.scenario, {
      figure: `pod start p50 (${o.layout})`,
      unit: 'ms',
      ours: percentile(ours, 50),
      floor: percentile(raw, 50),
      n: o.pods,
      target: targets.ratioAtMost(1.3),
    });
    ctx.report.add(o.scenario, {
      figure: `pod start p99 (${o.layout})`,
      unit: 'ms',
      ours: percentile(ours, 99),
      floor: percentile(raw, 99),
      n: o.pods,
    });
  } finally {
    watch.stop();
    await ns.close();
    await node.close();
  }
}

export async function startup(ctx: BenchContext): Promise<void> {
  await measureStartup(ctx, {
    scenario: '1 start-up',
    label: 'startup',
    layout: 'shared',
    pods: ctx.scale.startupPods,
  });
}
