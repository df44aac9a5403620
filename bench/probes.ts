// What probing costs: N pods on one virtual node, each probed every second (httpGet, exec, or both).
// Phase 1, vic-kubelet probing: its CPU, the engine's CPU (dockerd, containerd and the containers'
// shims, whose `runc exec` children count there), probes done per second, and the node's Lease.
// Phase 2, the raw engine: vic-kubelet is paused (SIGSTOP) and this process does the same work on the
// same containers with nothing in between (exec: the Docker API calls of `docker exec`; httpGet: a
// GET to the pod IP), on the same schedule: a period of 1 s after each probe ends, at most as many
// execs at once as vic-kubelet's exec budget. The two lines are printed one under the other.
// Usage: npx tsx bench/probes.ts [N=200] [httpGet|exec|both|none] [seconds=60]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { defaultExecBudget } from '../src/provider/pods/probes/prober.js';
import { ExecBudget } from '../src/provider/pods/probes/exec-budget.js';
import { kubeConfig, testEnv, testNamespace } from '../test/support/env.js';
import { kubeletRequest } from '../test/support/kubelet-client.js';
import { podOn, shell } from '../test/support/pods.js';
import { VicKubelet } from '../test/support/vic-kubelet.js';
import { engineCpu, engineCpuDelta, treeCpuSeconds } from './engine-cpu.js';
import { RawExec } from './raw-exec.js';

const n = Number(process.argv[2] ?? 200);
const kind = (process.argv[3] ?? 'both') as 'httpGet' | 'exec' | 'both' | 'none';
const seconds = Number(process.argv[4] ?? 60);
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const execCommand = ['test', '-f', '/www/ready'];

/** Probes completed so far, every type and result, from the node's /metrics/probes. */
async function probeCount(port: number): Promise<{ total: number; byResult: Record<string, number> }> {
  const reply = await kubeletRequest(port, 'GET', '/metrics/probes', 'apiserver');
  let total = 0;
  const byResult: Record<string, number> = {};
  for (const line of reply.body.split('\n')) {
    const m = /^prober_probe_total\{.*result="(\w+)".*\} (\d+)$/.exec(line);
    if (!m) continue;
    total += Number(m[2]);
    byResult[m[1]!] = (byResult[m[1]!] ?? 0) + Number(m[2]);
  }
  return { total, byResult };
}

function dockerdPid(): number {
  const dir = process.env.VK_ENV_DIR;
  if (!dir) throw new Error('VK_ENV_DIR is not set: source the test environment first');
  return Number(readFileSync(join(dir, 'pids', 'dockerd.pid'), 'utf8').trim());
}

function container(): k8s.V1Container {
  // timeoutSeconds 5: a probe's timeout starts when it runs, and on a busy engine an exec takes longer
  // than the default second; the bench measures probing, not restarts of timed-out containers.
  const probe = { periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 3 };
  return shell('main', 'mkdir -p /www && touch /www/ready && exec httpd -f -p 8080 -h /www', {
    ...(kind === 'httpGet' || kind === 'both'
      ? { readinessProbe: { ...probe, httpGet: { path: '/ready', port: 8080 } } }
      : {}),
    ...(kind === 'exec' || kind === 'both'
      ? { livenessProbe: { ...probe, exec: { command: execCommand } } }
      : {}),
  });
}

/** Watches the node's Lease renewTime once a second; the longest gap between renewals seen. */
function watchLease(nodeName: string): { stop(): Promise<number> } {
  let last: number | undefined;
  let longest = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const lease = await coordination.readNamespacedLease({
          name: nodeName,
          namespace: 'kube-node-lease',
        });
        const renewed = new Date(lease.spec?.renewTime ?? 0).getTime();
        if (last !== undefined && renewed !== last) longest = Math.max(longest, renewed - last);
        last = renewed;
      } catch {
        // Counted as a gap by the next renewal seen.
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (last !== undefined) longest = Math.max(longest, Date.now() - last);
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return longest / 1000;
    },
  };
}

interface Target {
  containerId: string;
  podIP: string;
}

/** The raw engine's phase: the same probes on the same schedule, from this process. */
async function rawPhase(targets: Target[], durationMs: number): Promise<{ done: number; failed: number }> {
  const raw = new RawExec(testEnv.dockerHost.slice('unix://'.length));
  const budget = new ExecBudget(defaultExecBudget);
  const agent = new http.Agent({ keepAlive: false });
  const end = Date.now() + durationMs;
  let done = 0;
  let failed = 0;
  const httpGet = (ip: string) =>
    new Promise<boolean>((resolve) => {
      const req = http.get({ host: ip, port: 8080, path: '/ready', agent, timeout: 5000 }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 0) < 400);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
  const loop = async (t: Target) => {
    // Spread the first runs over the first second, as the prober's workers start at different times.
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    while (Date.now() < end) {
      const runs: Array<Promise<boolean>> = [];
      if (kind === 'exec' || kind === 'both') {
        runs.push(
          budget
            .run(() => raw.run(t.containerId, execCommand))
            .then(
              (code) => code === 0,
              () => false,
            ),
        );
      }
      if (kind === 'httpGet' || kind === 'both') runs.push(httpGet(t.podIP));
      for (const ok of await Promise.all(runs)) {
        if (ok) done += 1;
        else failed += 1;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  await Promise.all(targets.map(loop));
  raw.close();
  return { done, failed };
}

function line(who: string, f: { done: number; minutes: number; cpu: number; engine: number }): string {
  const asked = kind === 'both' ? 2 * n : kind === 'none' ? 0 : n;
  return (
    `${who.padEnd(12)} ${n} pods, ${kind}: ${(f.done / f.minutes / 60).toFixed(1)} probes/s done of ${asked} asked; ` +
    `CPU s/s: ${who === 'vic-kubelet' ? 'vic-kubelet' : 'client'} ${(f.cpu / f.minutes / 60).toFixed(2)}, ` +
    `engine ${(f.engine / f.minutes / 60).toFixed(2)}` +
    (f.done > 0 ? ` (engine ${((f.engine * 1000) / f.done).toFixed(1)} ms per probe)` : '')
  );
}

// A kubelet admits 110 pods by default; this node must take all of them. Logs at info, as deployed.
const vk = await VicKubelet.start({
  args: ['--max-pods', String(n + 10)],
  env: { LOG_LEVEL: 'info' },
  ...(process.env.BENCH_VK_LOG ? { logFile: process.env.BENCH_VK_LOG } : {}),
});
const ns = await testNamespace(kc, 'bench-probes');
try {
  await vk.waitReady(300_000);
  const spec = podOn(vk.nodeName, { terminationGracePeriodSeconds: 0, containers: [container()] });
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, (_, j) =>
        core.createNamespacedPod({ namespace: ns.name, body: { metadata: { name: `p${i + j}` }, spec } }),
      ),
    );
  }
  const readyDeadline = Date.now() + 30 * 60_000;
  let pods: k8s.V1Pod[] = [];
  for (;;) {
    pods = (await core.listNamespacedPod({ namespace: ns.name })).items;
    // Every container running is enough: readiness is what the probes decide, and on a starved
    // machine not every pod may pass them.
    const running = pods.filter((p) => p.status?.containerStatuses?.[0]?.state?.running).length;
    if (running === n) break;
    if (Date.now() > readyDeadline) throw new Error(`only ${running} of ${n} pods run`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  // Let the start-up work settle before measuring.
  await new Promise((r) => setTimeout(r, 10_000));
  const vkPid = vk.pid ?? 0;
  const dPid = dockerdPid();

  // Phase 1: vic-kubelet probes.
  const lease = watchLease(vk.nodeName);
  const before = {
    vk: treeCpuSeconds(vkPid),
    engine: engineCpu(dPid),
    at: Date.now(),
    probes: await probeCount(vk.port),
  };
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await probeCount(vk.port);
  const results = Object.entries(after.byResult)
    .map(([result, count]) => `${result} ${count - (before.probes.byResult[result] ?? 0)}`)
    .join(', ');
  const ours = {
    minutes: (Date.now() - before.at) / 60_000,
    done: after.total - before.probes.total,
    cpu: treeCpuSeconds(vkPid) - before.vk,
    engine: engineCpuDelta(before.engine, engineCpu(dPid)),
  };
  const leaseGap = await lease.stop();

  // Phase 2: the raw engine, with vic-kubelet paused.
  let rawLine = 'raw engine   (not measured: no probes)';
  if (kind !== 'none') {
    pods = (await core.listNamespacedPod({ namespace: ns.name })).items;
    const targets = pods.flatMap((p) => {
      const id = p.status?.containerStatuses?.[0]?.containerID?.replace(/^docker:\/\//, '');
      return id && p.status?.podIP ? [{ containerId: id, podIP: p.status.podIP }] : [];
    });
    process.kill(vkPid, 'SIGSTOP');
    try {
      const rawBefore = { cpu: process.cpuUsage(), engine: engineCpu(dPid), at: Date.now() };
      const raw = await rawPhase(targets, seconds * 1000);
      const cpu = process.cpuUsage(rawBefore.cpu);
      rawLine = line('raw engine', {
        minutes: (Date.now() - rawBefore.at) / 60_000,
        done: raw.done + raw.failed,
        cpu: (cpu.user + cpu.system) / 1e6,
        engine: engineCpuDelta(rawBefore.engine, engineCpu(dPid)),
      });
      if (raw.failed > 0) rawLine += `; ${raw.failed} failed or timed out (5 s)`;
      if (targets.length < n) rawLine += `; ${targets.length} pods had a container ID and IP`;
    } finally {
      process.kill(vkPid, 'SIGCONT');
    }
  }
  console.log(`${line('vic-kubelet', ours)}; ${results}; longest Lease renewal gap ${leaseGap.toFixed(0)} s`);
  console.log(rawLine);
  console.log(
    `(measured over ${seconds} s each; engine = dockerd + containerd + shims, load ${loadavg()[0]!.toFixed(1)})`,
  );
} finally {
  await ns.cleanup();
  await vk.cleanup();
}
