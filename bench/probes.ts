// What probing costs: N pods on one virtual node, each probed every second (httpGet, exec, or both),
// and the CPU seconds per minute that vic-kubelet and dockerd spend, beside the same pods unprobed.
// Usage: npx tsx bench/probes.ts [N=200] [httpGet|exec|both|none] [seconds=60]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, testNamespace } from '../test/support/env.js';
import { kubeletRequest } from '../test/support/kubelet-client.js';
import { podOn, shell } from '../test/support/pods.js';
import { VicKubelet } from '../test/support/vic-kubelet.js';

const n = Number(process.argv[2] ?? 200);
const kind = (process.argv[3] ?? 'both') as 'httpGet' | 'exec' | 'both' | 'none';
const seconds = Number(process.argv[4] ?? 60);
const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
const ticksPerSecond = 100;

/** CPU seconds (user + system) of a process and all its descendants, from /proc. */
function treeCpuSeconds(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const child of children ? children.split(' ') : []) visit(Number(child));
      }
    } catch {
      // The process ended while we looked.
    }
  };
  visit(pid);
  return total;
}

/** Probes completed so far, every type and result, from the node's /metrics/probes. */
async function probeCount(port: number): Promise<number> {
  const reply = await kubeletRequest(port, 'GET', '/metrics/probes', 'apiserver');
  let total = 0;
  for (const line of reply.body.split('\n')) {
    const m = /^prober_probe_total\{.*\} (\d+)$/.exec(line);
    if (m) total += Number(m[1]);
  }
  return total;
}

function dockerdPid(): number {
  const dir = process.env.VK_ENV_DIR;
  if (!dir) throw new Error('VK_ENV_DIR is not set: source the test environment first');
  return Number(readFileSync(join(dir, 'pids', 'dockerd.pid'), 'utf8').trim());
}

function container(): k8s.V1Container {
  const probe = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 };
  return shell('main', 'mkdir -p /www && touch /www/ready && exec httpd -f -p 8080 -h /www', {
    ...(kind === 'httpGet' || kind === 'both'
      ? { readinessProbe: { ...probe, httpGet: { path: '/ready', port: 8080 } } }
      : {}),
    ...(kind === 'exec' || kind === 'both'
      ? { livenessProbe: { ...probe, exec: { command: ['test', '-f', '/www/ready'] } } }
      : {}),
  });
}

// A kubelet admits 110 pods by default; this node must take all of them.
const vk = await VicKubelet.start({ args: ['--max-pods', String(n + 10)] });
const ns = await testNamespace(kubeConfig(), 'bench-probes');
try {
  await vk.waitReady();
  const spec = podOn(vk.nodeName, { terminationGracePeriodSeconds: 0, containers: [container()] });
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, (_, j) =>
        core.createNamespacedPod({ namespace: ns.name, body: { metadata: { name: `p${i + j}` }, spec } }),
      ),
    );
  }
  const readyDeadline = Date.now() + 30 * 60_000;
  for (;;) {
    const pods = await core.listNamespacedPod({ namespace: ns.name });
    // Every container running is enough: readiness is what the probes decide, and on a starved
    // machine not every pod may pass them.
    const running = pods.items.filter((p) => p.status?.containerStatuses?.[0]?.state?.running).length;
    if (running === n) break;
    if (Date.now() > readyDeadline) throw new Error(`only ${running} of ${n} pods run`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  // Let the start-up work settle before measuring.
  await new Promise((r) => setTimeout(r, 10_000));
  const vkPid = vk.pid ?? 0;
  const dPid = dockerdPid();
  const before = {
    vk: treeCpuSeconds(vkPid),
    dockerd: treeCpuSeconds(dPid),
    at: Date.now(),
    probes: await probeCount(vk.port),
  };
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const minutes = (Date.now() - before.at) / 60_000;
  const done = (await probeCount(vk.port)) - before.probes;
  const vkPerMin = (treeCpuSeconds(vkPid) - before.vk) / minutes;
  const dPerMin = (treeCpuSeconds(dPid) - before.dockerd) / minutes;
  const probesPerSecond = kind === 'both' ? 2 * n : kind === 'none' ? 0 : n;
  console.log(
    `${n} pods, probes: ${kind} (${probesPerSecond} probes/s asked, ${(done / minutes / 60).toFixed(1)} probes/s done): ` +
      `vic-kubelet ${vkPerMin.toFixed(1)} CPU s/min, dockerd ${dPerMin.toFixed(1)} CPU s/min ` +
      `(measured over ${(minutes * 60).toFixed(0)} s)`,
  );
} finally {
  await ns.cleanup();
  await vk.cleanup();
}
