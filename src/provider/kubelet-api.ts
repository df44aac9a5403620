// What the kubelet HTTP API (src/api) asks of the provider: one small interface per concern, so the
// HTTP layer never learns about the VCH, and a test can stand in a fake for any one of them.
import type { Duplex, Readable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { AttachIO, ExitResult, TerminalSize } from '../shared/attach-io.js';

export interface PodRef {
  namespace: string;
  name: string;
  /** When the URL names a UID, a pod with another UID is "not found". */
  uid?: string;
}

/** PodLogOptions as the kubelet takes them from the query string, already validated. */
export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  sinceSeconds?: number;
  sinceTime?: Date;
  tailLines?: number;
  limitBytes?: number;
  /** All (default), Stdout or Stderr. */
  stream?: 'All' | 'Stdout' | 'Stderr';
}

/** The neutral streams of an exec or attach, whatever transport (SPDY, WebSocket) carried them. */
export type { AttachIO, ExitResult, TerminalSize };

export interface PodLister {
  /** The pods bound to this node, with their status, as the kubelet's /pods returns them. */
  listPods(): Promise<V1Pod[]>;
  /** Pods that have a running pod VM, as /runningpods/ returns them. */
  listRunningPods(): Promise<V1Pod[]>;
}

export interface ContainerLogs {
  /** The container's log stream; follow streams end when the container stops or `signal` aborts. */
  containerLogs(pod: PodRef, container: string, options: LogOptions, signal: AbortSignal): Promise<Readable>;
}

export interface ContainerStreams {
  exec(pod: PodRef, container: string, command: string[], io: AttachIO): Promise<ExitResult>;
  attach(pod: PodRef, container: string, io: AttachIO): Promise<ExitResult>;
  /** Connects `stream` to TCP `port` inside the pod VM until either side ends. */
  portForward(pod: PodRef, port: number, stream: Duplex): Promise<void>;
}

/** Cumulative CPU and working-set memory, the figures /stats/summary and /metrics/resource carry. */
export interface UsageSample {
  time: Date;
  /** Cumulative CPU time in nanoseconds. */
  usageCoreNanoSeconds: number;
  /** Current CPU use in nanocores, from the last two samples; undefined until there are two. */
  usageNanoCores?: number;
  workingSetBytes: number;
  usageBytes?: number;
  availableBytes?: number;
}

export interface ContainerUsage extends UsageSample {
  name: string;
  startTime: Date;
}

export interface PodUsage {
  pod: Required<PodRef>;
  startTime: Date;
  containers: ContainerUsage[];
  /** Sum over the pod's containers. */
  total: UsageSample;
}

export interface NodeUsage {
  nodeName: string;
  startTime: Date;
  total: UsageSample;
  pods: PodUsage[];
}

export interface UsageSource {
  /** Latest samples for the node and every running pod VM; never waits on the VCH per call. */
  usage(): Promise<NodeUsage>;
}

/** The kubelet's prober metrics, as Prometheus text (GET /metrics/probes). */
export interface ProbeMetricsSource {
  probeMetrics?(): Promise<{ contentType: string; text: string }>;
}

/** Everything the kubelet API serves from. */
export interface KubeletProvider
  extends PodLister, ContainerLogs, ContainerStreams, UsageSource, ProbeMetricsSource {}
