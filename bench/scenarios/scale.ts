// Scenarios 2 and 6 on one node, since the footprint is measured at the sizes the bursts reach.
// 2: bursts of N pods created at once (at most `concurrency` create calls in flight), time until the
//    watch has seen all Running, against N pod VMs created straight on the engine at the same
//    concurrency; then every pod deleted, until the API server and the engine hold none, against the
//    same raw pod VMs stopped and removed.
// 6: vic-kubelet's resident memory and CPU at 0 pods, at the first and the last burst size, idle and
//    under churn (pods created and deleted in a loop), and its API server requests per pod created,
//    per pod deleted, and per idle pod and minute (above the node's own heartbeat at 0 pods).
import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { startBenchNode, type BenchNode } from '../lib/bench-node.js';
import {
  breakdown,
  difference,
  heartbeatOnly,
  perUnit,
  withoutHeartbeat,
  type RequestCounts,
} from '../lib/identity.js';
import { isRunning, PodWatch } from '../lib/pod-watch.js';
import { benchNamespace, core, createPods, deleteAllPods, idlePod, names } from '../lib/pods.js';
import { sleep } from '../lib/pool.js';
import { rawBurst } from '../lib/raw-engine.js';
import { targets } from '../lib/report.js';
import { median } from '../lib/stats.js';

interface Window {
  rssMiB: number;
  cpuPerMin: number;
  requestsPerMin: number;
  requests: RequestCounts;
  cycles: number;
}

/** Samples RSS each second over a window while `during` runs (or the process idles). */
async function window(
  node: BenchNode,
  seconds: number,
  during?: (until: number) => Promise<number>,
): Promise<Window> {
  const req0 = await node.identity.requests();
  const cpu0 = node.cpuSeconds();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const samples: number[] = [];
  const sampling = (async () => {
    while (performance.now() < until) {
      samples.push(node.rssMiB());
      await sleep(1000);
    }
  })();
  const cycles = during ? await during(until) : 0;
  await sampling;
  const minutes = (performance.now() - t0) / 60_000;
  const cpuPerMin = (node.cpuSeconds() - cpu0) / minutes;
  const requests = difference(await node.identity.requests(), req0);
  return { rssMiB: median(samples), cpuPerMin, requestsPerMin: requests.total / minutes, requests, cycles };
}

/** Pods created, seen Running, deleted and seen gone, four at a time, until the deadline. */
function churn(node: BenchNode, ns: string, watch: PodWatch) {
  return async (until: number): Promise<number> => {
    let cycles = 0;
    let next = 0;
    const spec = idlePod(node.nodeName, { terminationGracePeriodSeconds: 1 });
    const worker = async () => {
      while (performance.now() < until) {
        const name = `churn-${next++}`;
        const running = watch.whenPod(name, 'Running', isRunning, 300_000);
        await core().createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec } });
        await running;
        const gone = watch.when(`${name} gone`, (pods) => !pods.has(name), 300_000);
        await core().deleteNamespacedPod({ name, namespace: ns });
        await gone;
        cycles++;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return cycles;
  };
}

export async function scale(ctx: BenchContext): Promise<void> {
  const { bursts, concurrency, idleSeconds, churnSeconds } = ctx.scale;
  const largest = Math.max(...bursts);
  const node = await startBenchNode({ label: 'scale', maxPods: largest + 50 });
  const ns = await benchNamespace('bench-scale');
  const watch = await PodWatch.start(ns.name);
  const footprint = async (pods: number, baseline?: Window): Promise<Window> => {
    await sleep(5000); // let the start-up or the burst settle
    const idle = await window(node, idleSeconds);
    const busy = await window(node, churnSeconds, churn(node, ns.name, watch));
    const at = `${pods} pods`;
    ctx.report.add('6 footprint', {
      figure: `RSS, idle, ${at}`,
      unit: 'MiB',
      ours: idle.rssMiB,
      ...(pods === 500 ? { target: targets.below(150, 'MiB') } : {}),
    });
    ctx.report.add('6 footprint', { figure: `CPU, idle, ${at}`, unit: 'CPU s/min', ours: idle.cpuPerMin });
    ctx.report.add('6 footprint', { figure: `RSS, churn, ${at}`, unit: 'MiB', ours: busy.rssMiB });
    ctx.report.add('6 footprint', {
      figure: `CPU, churn, ${at}`,
      unit: 'CPU s/min',
      ours: busy.cpuPerMin,
      note: `${busy.cycles} pods created and deleted in ${churnSeconds} s`,
    });
    ctx.report.add('6 footprint', {
      figure: `API requests per churned pod, ${at}`,
      unit: 'requests',
      ours: busy.cycles ? busy.requests.total / busy.cycles : Number.NaN,
      note: breakdown(busy.requests, Math.max(1, busy.cycles)),
      requests: perUnit(busy.requests, Math.max(1, busy.cycles)),
    });
    if (baseline) {
      ctx.report.add('6 footprint', {
        figure: `API requests per idle pod and minute, ${at}`,
        unit: 'requests/min',
        // The node's heartbeat (Lease, Node status) is no pod's: it is counted apart, not subtracted
        // from the 0-pod window's (a Node status patch falls in one 15 s window and not the other).
        ours: withoutHeartbeat(idle.requests).total / pods / (idleSeconds / 60),
        target: targets.atMost(0, 'requests/min'),
        note: `in ${idleSeconds} s, pods: ${breakdown(withoutHeartbeat(idle.requests)) || 'none'}; the node's heartbeat: ${breakdown(heartbeatOnly(idle.requests))} (node total ${idle.requestsPerMin.toFixed(1)}/min vs ${baseline.requestsPerMin.toFixed(1)}/min at 0 pods)`,
        requests: perUnit(withoutHeartbeat(idle.requests), (pods * idleSeconds) / 60),
      });
    } else {
      ctx.report.add('6 footprint', {
        figure: 'API requests per minute, idle node, 0 pods',
        unit: 'requests/min',
        ours: idle.requestsPerMin,
        note: `in ${idleSeconds} s: ${breakdown(idle.requests)}`,
      });
    }
    return idle;
  };
  try {
    const baseline = await footprint(0);
    for (const [i, n] of bursts.entries()) {
      const raw = await rawBurst({ runId: ctx.runId, layout: 'shared', n, concurrency });
      const before = await node.identity.requests();
      const started = performance.now();
      await createPods(ns.name, names(`b${n}-`, n), idlePod(node.nodeName), concurrency);
      const allRunning = await watch.when(
        `${n} pods Running`,
        (pods) => [...pods.values()].filter(isRunning).length === n,
        30 * 60_000,
      );
      await sleep(5000); // the last status patches and events of the burst
      const created = difference(await node.identity.requests(), before);
      ctx.report.add('2 bursts', {
        figure: `${n} pods created at once → all Running`,
        unit: 'ms',
        ours: allRunning - started,
        floor: raw.createMs,
        ...(n >= 300 ? { target: targets.ratioAtMost(1.5) } : {}),
        note: `concurrency ${concurrency}`,
      });
      ctx.report.add('6 footprint', {
        figure: `API requests per pod created (burst of ${n})`,
        unit: 'requests',
        ours: withoutHeartbeat(created).total / n,
        target: targets.atMost(4, 'requests'),
        note: `${breakdown(withoutHeartbeat(created), n)}; the node's heartbeat apart: ${breakdown(heartbeatOnly(created))}`,
        requests: perUnit(withoutHeartbeat(created), n),
      });
      if (i === 0 || i === bursts.length - 1) {
        await footprint(n, baseline);
        if (i === bursts.length - 1) await node.heapSnapshot();
      }
      const beforeDelete = await node.identity.requests();
      const deleteMs = await deleteAllPods({
        namespace: ns.name,
        nodeName: node.nodeName,
        watch,
        timeoutMs: 30 * 60_000,
      });
      await sleep(2000);
      const deleted = difference(await node.identity.requests(), beforeDelete);
      ctx.report.add('2 bursts', {
        figure: `${n} pods deleted → gone from API server and engine`,
        unit: 'ms',
        ours: deleteMs,
        floor: raw.deleteMs,
        note: `API requests per pod deleted ${(deleted.total / n).toFixed(2)} (${breakdown(deleted, n)})`,
        requests: perUnit(deleted, n),
      });
    }
  } finally {
    watch.stop();
    await core()
      .deleteCollectionNamespacedPod({ namespace: ns.name })
      .catch(() => undefined);
    await ns.close();
    await node.close();
  }
}
