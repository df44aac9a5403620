// Where a stream's CPU goes, per MiB carried: vic-kubelet, the API server that proxies it and the
// Docker engine, from /proc, sampled before and after the timed rounds of one client. The clients'
// own CPU is not here (kubectl and docker are children of the bench for a few hundred ms each).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineCpu, engineCpuDelta, treeCpuSeconds } from '../engine-cpu.js';

export interface CpuSample {
  vk: number;
  apiserver: number;
  engine: Map<number, number>;
}

export interface CpuPerMiB {
  vk: number;
  apiserver: number;
  engine: number;
}

function pidOf(name: string): number | undefined {
  const dir = process.env.VK_ENV_DIR;
  if (!dir) return undefined;
  try {
    return Number(readFileSync(join(dir, 'pids', `${name}.pid`), 'utf8').trim());
  } catch {
    return undefined;
  }
}

export function sampleCpu(vkPid: number): CpuSample {
  const apiserver = pidOf('kube-apiserver');
  const dockerd = pidOf('dockerd');
  return {
    vk: treeCpuSeconds(vkPid),
    apiserver: apiserver === undefined ? 0 : treeCpuSeconds(apiserver),
    engine: dockerd === undefined ? new Map<number, number>() : engineCpu(dockerd),
  };
}

/** CPU milliseconds per MiB between two samples. */
export function cpuPerMiB(before: CpuSample, after: CpuSample, mib: number): CpuPerMiB {
  return {
    vk: ((after.vk - before.vk) * 1000) / mib,
    apiserver: ((after.apiserver - before.apiserver) * 1000) / mib,
    engine: (engineCpuDelta(before.engine, after.engine) * 1000) / mib,
  };
}

export const cpuNote = (c: CpuPerMiB): string =>
  `CPU ms/MiB: vic-kubelet ${c.vk.toFixed(1)}, API server ${c.apiserver.toFixed(1)}, engine ${c.engine.toFixed(1)}`;
