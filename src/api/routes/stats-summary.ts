// GET /stats/summary: the provider's usage samples as a kubelet stats/v1alpha1 Summary (field names of
// staging/src/k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go), CPU and memory only.
import type { Request, Response } from 'express';
import type { ContainerUsage, NodeUsage, UsageSample } from '../../provider/kubelet-api.js';
import type { RouteContext } from './context.js';

export interface CpuStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes: number;
}

export interface ContainerStats {
  name: string;
  startTime: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStats[];
  cpu?: CpuStats;
  memory?: MemoryStats;
}

export interface Summary {
  node: { nodeName: string; startTime: string; cpu?: CpuStats; memory?: MemoryStats };
  pods: PodStats[];
}

/** metav1.Time's JSON form: RFC3339 with whole seconds. */
export function metaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** uint64 on the wire: whole, never negative. */
const whole = (n: number): number => Math.max(0, Math.round(n));

/**
 * True when a container has a real sample. A container that has just started reads 0 for CPU or memory;
 * metrics-server drops the whole pod when any container reads 0, so such a container is left out of the
 * figures until it has one.
 */
export function hasSample(sample: UsageSample): boolean {
  return sample.usageCoreNanoSeconds > 0 && sample.workingSetBytes > 0;
}

function cpu(sample: UsageSample): CpuStats {
  return {
    time: metaTime(sample.time),
    ...(sample.usageNanoCores !== undefined ? { usageNanoCores: whole(sample.usageNanoCores) } : {}),
    usageCoreNanoSeconds: whole(sample.usageCoreNanoSeconds),
  };
}

function memory(sample: UsageSample): MemoryStats {
  return {
    time: metaTime(sample.time),
    ...(sample.availableBytes !== undefined ? { availableBytes: whole(sample.availableBytes) } : {}),
    ...(sample.usageBytes !== undefined ? { usageBytes: whole(sample.usageBytes) } : {}),
    workingSetBytes: whole(sample.workingSetBytes),
  };
}

function figures(sample: UsageSample): { cpu?: CpuStats; memory?: MemoryStats } {
  return hasSample(sample) ? { cpu: cpu(sample), memory: memory(sample) } : {};
}

function container(usage: ContainerUsage): ContainerStats {
  return { name: usage.name, startTime: metaTime(usage.startTime), ...figures(usage) };
}

export function summaryOf(usage: NodeUsage): Summary {
  return {
    node: { nodeName: usage.nodeName, startTime: metaTime(usage.startTime), ...figures(usage.total) },
    pods: usage.pods.map((pod) => ({
      podRef: { name: pod.pod.name, namespace: pod.pod.namespace, uid: pod.pod.uid },
      startTime: metaTime(pod.startTime),
      containers: pod.containers.map(container),
      ...figures(pod.total),
    })),
  };
}

export function statsSummaryHandler(ctx: RouteContext) {
  return async (_req: Request, res: Response): Promise<void> => {
    const summary = summaryOf(await ctx.provider.usage());
    res.status(200).type('application/json').send(JSON.stringify(summary));
  };
}
