// Scenarios 4 and 5: streams through kubectl against the docker CLI on the same container.
// 4: `kubectl logs -f` first byte and throughput over a container's whole log, against `docker logs -f`.
// 5: `kubectl exec` round trip of a small echo and bulk stdout throughput, over WebSocket (kubectl
//    1.37) and SPDY (kubectl 1.27), against `docker exec`.
// Fair to both sides: the same container and the same bytes, both clients read to the last byte, a CLI
// against a CLI, one untimed warm-up round per client, rounds alternating between clients. Start-up
// (the client's own, authentication, the API server's proxying) is the first-byte and round-trip
// figure; throughput is counted from the first byte to the last, so that a start-up of ~100 ms does
// not pass for bandwidth on a transfer that takes a few hundred.
import type * as k8s from '@kubernetes/client-node';
import { docker } from '../../test/support/env.js';
import { podOn, shell } from '../../test/support/pods.js';
import type { BenchContext } from '../lib/context.js';
import { startBenchNode } from '../lib/bench-node.js';
import { timeCommand, type StreamTiming } from '../lib/cli-stream.js';
import { dockerClient, kubectlClient, type Client } from '../lib/clients.js';
import { cpuNote, cpuPerMiB, sampleCpu, type CpuPerMiB } from '../lib/stream-cpu.js';
import { isRunning, PodWatch } from '../lib/pod-watch.js';
import { benchNamespace, core } from '../lib/pods.js';
import { sleep } from '../lib/pool.js';
import { targets } from '../lib/report.js';
import { median } from '../lib/stats.js';

const marker = 'bench-logs-end';
const line =
  '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz';

async function streamPod(label: string, script: string) {
  const node = await startBenchNode({ label });
  const ns = await benchNamespace(`bench-${label}`);
  const watch = await PodWatch.start(ns.name);
  const name = 'streams';
  await core().createNamespacedPod({
    namespace: ns.name,
    body: {
      metadata: { name },
      spec: podOn(node.nodeName, {
        terminationGracePeriodSeconds: 1,
        automountServiceAccountToken: false,
        containers: [shell('main', script)],
      }),
    },
  });
  await watch.whenPod(name, 'Running', isRunning);
  const pod: k8s.V1Pod = watch.pods.get(name)!;
  const containerId = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^docker:\/\//, '');
  return {
    name,
    ns: ns.name,
    containerId,
    vkPid: node.pid,
    async close() {
      watch.stop();
      await ns.close();
      await node.close();
    },
  };
}

/** CPU per MiB, summed over the timed rounds of each client (see stream-cpu.ts). */
class CpuTally {
  readonly #vkPid: number;
  readonly #totals = new Map<string, { cpu: CpuPerMiB; mib: number }>();

  constructor(vkPid: number) {
    this.#vkPid = vkPid;
  }

  /** Runs one timed command and adds the CPU it cost to `key`'s total. */
  async time(key: string, run: () => Promise<StreamTiming>): Promise<StreamTiming> {
    const before = sampleCpu(this.#vkPid);
    const t = await run();
    const mib = t.bytes / 2 ** 20;
    const spent = cpuPerMiB(before, sampleCpu(this.#vkPid), 1);
    const total = this.#totals.get(key) ?? { cpu: { vk: 0, apiserver: 0, engine: 0 }, mib: 0 };
    total.cpu.vk += spent.vk;
    total.cpu.apiserver += spent.apiserver;
    total.cpu.engine += spent.engine;
    total.mib += mib;
    this.#totals.set(key, total);
    return t;
  }

  perMiB(key: string): CpuPerMiB | undefined {
    const total = this.#totals.get(key);
    if (!total || total.mib === 0) return undefined;
    return {
      vk: total.cpu.vk / total.mib,
      apiserver: total.cpu.apiserver / total.mib,
      engine: total.cpu.engine / total.mib,
    };
  }
}

const cpuSum = (c: CpuPerMiB | undefined): number => (c ? c.vk + c.apiserver + c.engine : Number.NaN);

/** Bytes over the time from the first byte to the last (start-up is reported as its own figure). */
const mibPerSecond = (t: StreamTiming): number => t.bytes / 2 ** 20 / ((t.totalMs - t.firstByteMs) / 1000);

export async function logs(ctx: BenchContext): Promise<void> {
  const bytes = ctx.scale.streamMiB * 2 ** 20;
  const total = bytes + 1 + marker.length + 1;
  const pod = await streamPod(
    'logs',
    `yes ${line} | head -c ${bytes}; echo; echo ${marker}; exec sleep 3600`,
  );
  try {
    const dockerCli = dockerClient();
    const kubectl = kubectlClient();
    // Wait until the whole log is written.
    for (let i = 0; ; i++) {
      const tail = (await docker().getContainer(pod.containerId).logs({ stdout: true, tail: 1 })).toString();
      if (tail.includes(marker)) break;
      if (i > 600) throw new Error(`the log of ${pod.name} never ended with ${marker}; last line: ${tail}`);
      await sleep(200);
    }
    const runs: Record<string, StreamTiming[]> = { kubectl: [], docker: [] };
    const kubectlLogs = () =>
      timeCommand({
        command: kubectl.command,
        args: [...kubectl.prefix, 'logs', '-f', '-n', pod.ns, pod.name],
        stopAfterBytes: total,
      });
    const dockerLogs = (cli: Client) =>
      timeCommand({
        command: cli.command,
        args: [...cli.prefix, 'logs', '-f', pod.containerId],
        stopAfterBytes: total,
      });
    // Warm-up, not counted: the log file in the page cache, each client's binary loaded.
    await kubectlLogs();
    if (dockerCli) await dockerLogs(dockerCli);
    const rounds = Math.max(3, Math.ceil(ctx.scale.rounds / 2));
    const cpu = new CpuTally(pod.vkPid);
    for (let i = 0; i < rounds; i++) {
      runs.kubectl!.push(await cpu.time('kubectl', kubectlLogs));
      if (dockerCli) runs.docker!.push(await cpu.time('docker', () => dockerLogs(dockerCli)));
    }
    const floor = (f: (t: StreamTiming) => number) => (dockerCli ? median(runs.docker!.map(f)) : undefined);
    ctx.report.add('4 logs', {
      figure: 'kubectl logs -f first byte (docker logs -f)',
      unit: 'ms',
      ours: median(runs.kubectl!.map((t) => t.firstByteMs)),
      floor: floor((t) => t.firstByteMs),
      n: rounds,
    });
    ctx.report.add('4 logs', {
      figure: `kubectl logs -f throughput, ${ctx.scale.streamMiB} MiB log (docker logs -f)`,
      unit: 'MiB/s',
      ours: median(runs.kubectl!.map(mibPerSecond)),
      floor: floor(mibPerSecond),
      n: rounds,
      target: targets.ratioAtLeast(0.8),
      note: 'first byte to last',
    });
    const kubectlCpu = cpu.perMiB('kubectl');
    ctx.report.add('4 logs', {
      figure: 'CPU per MiB of kubectl logs -f: vic-kubelet + API server + engine (docker logs -f)',
      unit: 'CPU ms/MiB',
      ours: cpuSum(kubectlCpu),
      floor: dockerCli ? cpuSum(cpu.perMiB('docker')) : undefined,
      n: rounds,
      ...(kubectlCpu ? { note: cpuNote(kubectlCpu) } : {}),
    });
  } finally {
    await pod.close();
  }
}

export async function exec(ctx: BenchContext): Promise<void> {
  const pod = await streamPod('exec', 'exec sleep 3600');
  try {
    const dockerCli = dockerClient();
    const clients: { key: string; client: Client; args: (cmd: string[]) => string[] }[] = [
      ...[kubectlClient(), kubectlClient('1.27')].map((client) => ({
        key: client.label,
        client,
        args: (cmd: string[]) => [
          ...client.prefix,
          'exec',
          '-n',
          pod.ns,
          pod.name,
          '-c',
          'main',
          '--',
          ...cmd,
        ],
      })),
      ...(dockerCli
        ? [
            {
              key: 'docker',
              client: dockerCli,
              args: (cmd: string[]) => [...dockerCli.prefix, 'exec', pod.containerId, ...cmd],
            },
          ]
        : []),
    ];
    const echo: Record<string, number[]> = {};
    const bulk: Record<string, StreamTiming[]> = {};
    const bytes = ctx.scale.streamMiB * 2 ** 20;
    // Warm-up, not counted: each client's binary loaded, the exec path of the engine used once.
    for (const c of clients) {
      await timeCommand({
        command: c.client.command,
        args: c.args(['head', '-c', String(bytes), '/dev/zero']),
        timeoutMs: 300_000,
      });
    }
    for (let i = 0; i < ctx.scale.rounds; i++) {
      for (const c of clients) {
        const t = await timeCommand({ command: c.client.command, args: c.args(['echo', 'hi']) });
        (echo[c.key] ??= []).push(t.totalMs);
      }
    }
    const bulkRounds = Math.max(3, Math.ceil(ctx.scale.rounds / 3));
    const cpu = new CpuTally(pod.vkPid);
    for (let i = 0; i < bulkRounds; i++) {
      for (const c of clients) {
        const t = await cpu.time(c.key, () =>
          timeCommand({
            command: c.client.command,
            args: c.args(['head', '-c', String(bytes), '/dev/zero']),
            timeoutMs: 300_000,
          }),
        );
        if (t.bytes !== bytes) throw new Error(`${c.key} exec gave ${t.bytes} of ${bytes} bytes`);
        (bulk[c.key] ??= []).push(t);
      }
    }
    for (const c of clients.filter((x) => x.key !== 'docker')) {
      ctx.report.add('5 exec', {
        figure: `${c.key} exec echo round trip (docker exec)`,
        unit: 'ms',
        ours: median(echo[c.key]!),
        floor: dockerCli ? median(echo.docker!) : undefined,
        n: ctx.scale.rounds,
      });
      ctx.report.add('5 exec', {
        figure: `${c.key} exec stdout throughput, ${ctx.scale.streamMiB} MiB (docker exec)`,
        unit: 'MiB/s',
        ours: median(bulk[c.key]!.map(mibPerSecond)),
        floor: dockerCli ? median(bulk.docker!.map(mibPerSecond)) : undefined,
        n: bulkRounds,
        target: targets.ratioAtLeast(0.8),
        note: 'first byte to last',
      });
      const ours = cpu.perMiB(c.key);
      ctx.report.add('5 exec', {
        figure: `CPU per MiB of ${c.key} exec: vic-kubelet + API server + engine (docker exec)`,
        unit: 'CPU ms/MiB',
        ours: cpuSum(ours),
        floor: dockerCli ? cpuSum(cpu.perMiB('docker')) : undefined,
        n: bulkRounds,
        ...(ours ? { note: cpuNote(ours) } : {}),
      });
    }
  } finally {
    await pod.close();
  }
}
