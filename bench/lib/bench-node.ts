// One vic-kubelet for a bench scenario: a real process (the compiled build when VK_E2E_DIST=1, as
// `npm run bench` runs it) on the shared engine or another VCH endpoint, as its own ServiceAccount so
// that its API requests can be counted, logging at info as a deployment does. Registered for clean-up
// (Node, Lease, pod VMs, identity) the moment it starts. With VK_BENCH_PROFILE=1 it also writes a CPU
// profile when it stops and a heap snapshot on demand, under bench/results/profiles/.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueName } from '../../test/support/env.js';
import { VicKubelet } from '../../test/support/vic-kubelet.js';
import { onCleanup } from './cleanup.js';
import { createIdentity, type BenchIdentity } from './identity.js';
import { cpuSeconds, rssMiB } from './proc.js';

/**
 * Every bench node runs with --cluster-dns, as a deployed node does: without it the kubelet posts a
 * MissingClusterDNS warning for every pod (an API request per pod that no configured node makes).
 * The pods of the bench resolve nothing, so the address need not answer. VK_BENCH_CLUSTER_DNS sets it.
 */
export const benchClusterDns = process.env.VK_BENCH_CLUSTER_DNS ?? '10.96.0.10';

export const profileDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'profiles');
/** VK_BENCH_PROFILE=1: CPU profile and heap snapshot; =heap: the heap snapshot only (no profiler running). */
const profileMode = process.env.VK_BENCH_PROFILE;
export const profiling = profileMode === '1' || profileMode === 'heap';
const cpuProfiling = profileMode === '1';

export interface BenchNodeOptions {
  /** Short name of the scenario, part of the node name. */
  label: string;
  /** The VCH endpoint (default: the test engine). */
  vch?: string;
  /** Pods the node admits (a kubelet's default is 110). */
  maxPods?: number;
  args?: string[];
}

export interface BenchNode {
  readonly vk: VicKubelet;
  readonly nodeName: string;
  readonly pid: number;
  readonly identity: BenchIdentity;
  rssMiB(): number;
  cpuSeconds(): number;
  /** Asks the process for a heap snapshot (VK_BENCH_PROFILE=1 only); resolves after a pause for writing. */
  heapSnapshot(): Promise<void>;
  /** Stops the process (SIGTERM: a CPU profile is written) and removes what it made. */
  close(): Promise<void>;
}

export async function startBenchNode(options: BenchNodeOptions): Promise<BenchNode> {
  const nodeName = uniqueName(`vk-bench-${options.label}`);
  const identity = await createIdentity(nodeName);
  if (profiling) mkdirSync(profileDir, { recursive: true });
  const vk = await VicKubelet.start({
    nodeName,
    args: [
      ...(options.vch ? ['--vch', options.vch] : []),
      '--max-pods',
      String(options.maxPods ?? 110),
      '--cluster-dns',
      benchClusterDns,
      ...(options.args ?? []),
      // Last, so it wins over the admin kubeconfig VicKubelet passes.
      '--kubeconfig',
      identity.kubeconfig,
    ],
    env: {
      LOG_LEVEL: process.env.VK_BENCH_LOG_LEVEL ?? 'info',
      ...(profiling
        ? {
            NODE_OPTIONS: [
              ...(cpuProfiling
                ? [`--import=${join(dirname(fileURLToPath(import.meta.url)), 'cpu-profile-preload.mjs')}`]
                : []),
              `--heapsnapshot-signal=SIGUSR2`,
              `--diagnostic-dir=${profileDir}`,
            ].join(' '),
            VK_BENCH_CPU_PROFILE: join(profileDir, `${nodeName}.cpuprofile`),
          }
        : {}),
    },
  });
  const close = onCleanup(`vic-kubelet ${nodeName}`, async () => {
    await vk.stop('SIGTERM');
    await vk.cleanup();
  });
  try {
    await vk.waitReady(120_000);
  } catch (error) {
    console.error(vk.output().slice(-3000));
    throw error;
  }
  const pid = vk.pid;
  if (pid === undefined) throw new Error(`vic-kubelet ${nodeName} has no pid`);
  return {
    vk,
    nodeName,
    pid,
    identity,
    rssMiB: () => rssMiB(pid),
    cpuSeconds: () => cpuSeconds(pid),
    async heapSnapshot() {
      if (!profiling) return;
      process.kill(pid, 'SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    },
    close,
  };
}
