// What every scenario is handed: the report to add rows to, the run's id (on every raw container) and
// the scale. VK_BENCH_SCALE=small is a quick run; the default is the sizes.
import { randomBytes } from 'node:crypto';
import type { Report } from './report.js';

export interface Scale {
  name: 'small' | 'full';
  /** Pods started one at a time for the start-up percentiles. */
  startupPods: number;
  /** Burst sizes, created at once; footprint is measured at 0, the first and the last. */
  bursts: number[];
  /** Requests in flight in a burst, to the API server and to the raw engine alike. */
  concurrency: number;
  statusPods: number;
  streamMiB: number;
  rounds: number;
  idleSeconds: number;
  churnSeconds: number;
  layoutPods: number;
  volumePods: number;
}

const scales: Record<Scale['name'], Scale> = {
  small: {
    name: 'small',
    startupPods: 20,
    bursts: [20, 50],
    concurrency: 16,
    statusPods: 20,
    streamMiB: 32,
    rounds: 5,
    idleSeconds: 15,
    churnSeconds: 15,
    layoutPods: 10,
    volumePods: 5,
  },
  full: {
    name: 'full',
    startupPods: 50,
    bursts: [100, 300, 500],
    concurrency: 16,
    statusPods: 50,
    streamMiB: 64,
    rounds: 10,
    idleSeconds: 30,
    churnSeconds: 30,
    layoutPods: 20,
    volumePods: 10,
  },
};

export function scaleFromEnv(): Scale {
  const name = process.env.VK_BENCH_SCALE === 'small' ? 'small' : 'full';
  const scale = { ...scales[name] };
  if (process.env.VK_BENCH_BURSTS) scale.bursts = process.env.VK_BENCH_BURSTS.split(',').map(Number);
  if (process.env.VK_BENCH_CONCURRENCY) scale.concurrency = Number(process.env.VK_BENCH_CONCURRENCY);
  return scale;
}

export interface BenchContext {
  report: Report;
  scale: Scale;
  runId: string;
}

export const newRunId = (): string => `run-${randomBytes(4).toString('hex')}`;
