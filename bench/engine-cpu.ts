// CPU seconds from /proc, for the benches: a process tree (vic-kubelet), and the Docker engine as a
// whole, which is more than dockerd's tree: its containerd, and every containerd-shim of its containers
// (reparented to init), whose reaped children (the `runc exec` behind each exec) count in the shim's
// cumulative child time.
import { readFileSync, readdirSync } from 'node:fs';

const ticksPerSecond = 100;

interface ProcTimes {
  own: number;
  children: number;
}

function procTimes(pid: number): ProcTimes | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      own: (Number(f[11]) + Number(f[12])) / ticksPerSecond,
      children: (Number(f[13]) + Number(f[14])) / ticksPerSecond,
    };
  } catch {
    return undefined; // The process ended while we looked.
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of list ? list.split(' ') : []) out.push(Number(child));
    }
  } catch {
    // Gone.
  }
  return out;
}

/** CPU seconds (user + system) of a process and all its living descendants. */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    total += procTimes(p)?.own ?? 0;
    for (const child of childrenOf(p)) visit(child);
  };
  visit(pid);
  return total;
}

/** Per process of the engine: CPU seconds including reaped children, so deltas can be taken per pid. */
export function engineCpu(dockerdPid: number): Map<number, number> {
  const out = new Map<number, number>();
  const add = (pid: number) => {
    const t = procTimes(pid);
    if (t) out.set(pid, t.own + t.children);
  };
  const visit = (p: number) => {
    add(p);
    for (const child of childrenOf(p)) visit(child);
  };
  visit(dockerdPid);
  // The engine's containerd socket names its shims.
  let address = '';
  for (const pid of out.keys()) {
    let cmd: string[];
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // Ended since it was sampled (a busy engine's `runc exec`).
    }
    const i = cmd.indexOf('--config');
    if (cmd[0]?.endsWith('containerd') && i >= 0)
      address = `${cmd[i + 1]!.replace(/containerd\.toml$/, '')}containerd.sock`;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim') && address && cmd.includes(address)) add(Number(entry));
    } catch {
      // Gone.
    }
  }
  return out;
}

/** CPU seconds the engine spent between two engineCpu samples (shims that came and went in between are missed). */
export function engineCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, t] of after) total += t - (before.get(pid) ?? 0);
  return total;
}
