// Scenario 6, the API requests alone, broken down by verb and resource (issue 15: at most 4 requests
// per pod created, none per idle pod). On one node: N pods without a service-account token volume (as
// the scale scenario's pods), then N with the token volume every pod gets by default (a projected
// token, the kube-root-ca.crt ConfigMap and the namespace); each burst counted per pod created. Then
// all of them idle for a window long enough to see periodic work (volume resync, token renewal,
// status re-writes), counted per pod and minute apart from the node's own heartbeat (its Lease and
// Node status); then every pod deleted, counted per pod.
//   VK_BENCH_REQUEST_PODS=20   pods per kind (default 20)
//   VK_BENCH_IDLE_SECONDS=180  the idle window (default 180 s)
import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { benchClusterDns, startBenchNode } from '../lib/bench-node.js';
import { breakdown, difference, heartbeatOnly, perUnit, withoutHeartbeat } from '../lib/identity.js';
import { isRunning, PodWatch } from '../lib/pod-watch.js';
import { benchNamespace, core, createPods, deleteAllPods, idlePod, names } from '../lib/pods.js';
import { sleep } from '../lib/pool.js';
import { targets } from '../lib/report.js';

const scenario = '6 requests';

export async function requests(ctx: BenchContext): Promise<void> {
  const n = Number(process.env.VK_BENCH_REQUEST_PODS ?? 20);
  const idleSeconds = Number(process.env.VK_BENCH_IDLE_SECONDS ?? 180);
  const node = await startBenchNode({
    label: 'requests',
    maxPods: 2 * n + 10,
  });
  const ns = await benchNamespace('bench-requests');
  const watch = await PodWatch.start(ns.name);
  try {
    const kinds = [
      { prefix: 'plain-', what: 'no token volume', spec: idlePod(node.nodeName) },
      {
        prefix: 'token-',
        what: 'with the default service-account token volume',
        spec: idlePod(node.nodeName, { automountServiceAccountToken: true }),
      },
    ];
    let total = 0;
    for (const kind of kinds) {
      const before = await node.identity.requests();
      await createPods(ns.name, names(kind.prefix, n), kind.spec, ctx.scale.concurrency);
      total += n;
      await watch.when(
        `${total} pods Running`,
        (pods) => [...pods.values()].filter(isRunning).length === total,
        10 * 60_000,
      );
      await sleep(5000); // the last status patches and events of the burst
      const created = withoutHeartbeat(difference(await node.identity.requests(), before));
      ctx.report.add(scenario, {
        figure: `API requests per pod created, ${kind.what} (${n} pods)`,
        unit: 'requests',
        ours: created.total / n,
        target: targets.atMost(4, 'requests'),
        note: `${breakdown(created, n)} (node with --cluster-dns ${benchClusterDns})`,
        requests: perUnit(created, n),
      });
    }

    await sleep(10_000);
    const idleBefore = await node.identity.requests();
    const t0 = performance.now();
    await sleep(idleSeconds * 1000);
    const minutes = (performance.now() - t0) / 60_000;
    const idle = difference(await node.identity.requests(), idleBefore);
    const pods = withoutHeartbeat(idle);
    const heartbeat = heartbeatOnly(idle);
    ctx.report.add(scenario, {
      figure: `API requests per idle pod and minute (${total} pods, ${idleSeconds} s)`,
      unit: 'requests/min',
      ours: pods.total / total / minutes,
      target: targets.atMost(0, 'requests/min'),
      note: `pods: ${breakdown(pods) || 'none'}; the node's heartbeat apart: ${breakdown(heartbeat)}`,
      requests: perUnit(pods, total * minutes),
    });

    const beforeDelete = await node.identity.requests();
    await deleteAllPods({ namespace: ns.name, nodeName: node.nodeName, watch, timeoutMs: 10 * 60_000 });
    await sleep(2000);
    const deleted = withoutHeartbeat(difference(await node.identity.requests(), beforeDelete));
    ctx.report.add(scenario, {
      figure: `API requests per pod deleted (${total} pods)`,
      unit: 'requests',
      ours: deleted.total / total,
      note: breakdown(deleted, total),
      requests: perUnit(deleted, total),
    });
  } finally {
    watch.stop();
    await core()
      .deleteCollectionNamespacedPod({ namespace: ns.name })
      .catch(() => undefined);
    await ns.close();
    await node.close();
  }
}
