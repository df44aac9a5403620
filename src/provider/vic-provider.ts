// The provider the kubelet API serves from: pods from the pod controller's informer, logs, exec,
// attach and port-forward through the pod's VM on the VCH, and usage from the VCH's stats collector.
// It resolves a namespace/name (and optional UID) to the pod VM, and says "not found" when it cannot.
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { VicError } from '../shared/errors.js';
import type { Vch } from '../vch/index.js';
import type {
  AttachIO,
  ContainerUsage,
  ExitResult,
  KubeletProvider,
  LogOptions,
  NodeUsage,
  PodRef,
  PodUsage,
  UsageSample,
} from './kubelet-api.js';

export interface PodSource {
  pods(): V1Pod[];
  pod(namespace: string, name: string): V1Pod | undefined;
  probeMetrics?(): Promise<{ contentType: string; text: string }>;
}

export interface VicProviderOptions {
  vch: Pick<Vch, 'pods' | 'streams' | 'stats'>;
  pods: PodSource;
  nodeName: string;
  startTime: Date;
}

export class VicProvider implements KubeletProvider {
  readonly #o: VicProviderOptions;

  constructor(options: VicProviderOptions) {
    this.#o = options;
  }

  async probeMetrics(): Promise<{ contentType: string; text: string }> {
    return (
      (await this.#o.pods.probeMetrics?.()) ?? {
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        text: '',
      }
    );
  }

  async listPods(): Promise<V1Pod[]> {
    return this.#o.pods.pods();
  }

  async listRunningPods(): Promise<V1Pod[]> {
    const running = new Set(
      (await this.#o.vch.pods.list()).filter((vm) => vm.sandbox?.state === 'running').map((vm) => vm.pod.uid),
    );
    return this.#o.pods.pods().filter((p) => running.has(p.metadata?.uid ?? ''));
  }

  async containerLogs(
    ref: PodRef,
    container: string,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<Readable> {
    const uid = this.#resolve(ref, container);
    const stream = await this.#o.vch.streams.logs(
      { uid, containerName: container },
      {
        follow: options.follow,
        previous: options.previous,
        timestamps: options.timestamps,
        ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}),
        ...(options.sinceTime ? { sinceTime: options.sinceTime } : {}),
        ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
        ...(options.limitBytes !== undefined ? { limitBytes: options.limitBytes } : {}),
        ...(options.stream ? { stream: options.stream } : {}),
      },
    );
    signal.addEventListener('abort', () => stream.destroy(), { once: true });
    return stream;
  }

  async exec(ref: PodRef, container: string, command: string[], io: AttachIO): Promise<ExitResult> {
    const uid = this.#resolve(ref, container);
    return this.#o.vch.streams.exec({ uid, containerName: container }, command, io);
  }

  async attach(ref: PodRef, container: string, io: AttachIO): Promise<ExitResult> {
    const uid = this.#resolve(ref, container);
    await this.#o.vch.streams.attach({ uid, containerName: container }, io);
    // As the kubelet: an attach that ran to its end succeeded, whatever the container exited with. That
    // code is the pod status's to tell; reported here, kubectl takes the attach for failed (`kubectl run
    // -i` warns and prints the container's output a second time, from its logs).
    return { exitCode: 0 };
  }

  async portForward(ref: PodRef, port: number, stream: Duplex): Promise<void> {
    const uid = this.#resolve(ref);
    const target = await this.#o.vch.streams.portForward(uid, port);
    // Both directions until either side ends; an error on one side ends the other. The client going
    // away is the normal end; the pod's side breaking is an error the client is told about.
    let podSideError: Error | undefined;
    target.on('error', (err: NodeJS.ErrnoException) => {
      // A premature close is the pipeline passing on the client's end, not the pod's doing.
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') podSideError ??= err;
    });
    try {
      await Promise.all([pipeline(stream, target), pipeline(target, stream)]);
    } catch {
      stream.destroy();
      target.destroy();
      if (podSideError) {
        const code = (podSideError as NodeJS.ErrnoException).code;
        throw new VicError(
          'Internal',
          `the connection to port ${port} in pod ${ref.namespace}/${ref.name} broke (${code ?? podSideError.message}): ` +
            'the process listening there closed or reset it; check it in the container logs',
          { cause: podSideError },
        );
      }
    }
  }

  async usage(): Promise<NodeUsage> {
    const runningPods = this.#o.pods.pods().flatMap((pod) => {
      const uid = pod.metadata?.uid;
      return uid && pod.status?.phase === 'Running' ? [{ pod, uid }] : [];
    });
    // Every pod at once, from one list of the node's pod VMs: the engine answers a one-shot stats call
    // on the next pass of its collector, once a second, and one pass answers every call waiting
    // (src/vch/stats.ts). Asked 8 pods at a time, a scrape of 100 pods took 14.5 s, beyond
    // metrics-server's 10 s timeout.
    const sampled = await this.#o.vch.stats.pods(runningPods.map((r) => r.uid));
    const pods: PodUsage[] = [];
    for (const { pod, uid } of runningPods) {
      const stats = sampled.get(uid);
      if (!stats || stats.containers.length === 0) continue;
      const startTime = asDate(pod.status?.startTime) ?? this.#o.startTime;
      const containers: ContainerUsage[] = stats.containers.map(({ name, stats: s }) => {
        const running = asDate(
          pod.status?.containerStatuses?.find((c) => c.name === name)?.state?.running?.startedAt,
        );
        return {
          name,
          startTime: running ?? startTime,
          time: s.time,
          usageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds,
          ...(s.cpuUsageNanoCores !== undefined ? { usageNanoCores: s.cpuUsageNanoCores } : {}),
          workingSetBytes: s.memoryWorkingSetBytes,
          usageBytes: s.memoryUsageBytes,
        };
      });
      pods.push({
        pod: { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid },
        startTime,
        containers,
        total: sum(containers),
      });
    }
    // The node's usage is its pods' usage: the VCH reports no host-wide figures through the Docker API,
    // and vic-kubelet's own process is not part of the node it presents. With no pod running the node
    // reads zero, which metrics-server shows as "metrics not available": true, not invented.
    return {
      nodeName: this.#o.nodeName,
      startTime: this.#o.startTime,
      total: sum(pods.map((p) => p.total)),
      pods,
    };
  }

  /** The pod's UID, checking the pod (and container, when given) exist on this node. */
  #resolve(ref: PodRef, container?: string): string {
    const pod = this.#o.pods.pod(ref.namespace, ref.name);
    const uid = pod?.metadata?.uid;
    if (!pod || !uid || (ref.uid && ref.uid !== uid)) {
      throw new VicError(
        'NotFound',
        `pod "${ref.name}" not found in namespace "${ref.namespace}" on this node`,
      );
    }
    if (container !== undefined) {
      const all = [
        ...(pod.spec?.initContainers ?? []),
        ...(pod.spec?.containers ?? []),
        ...(pod.spec?.ephemeralContainers ?? []),
      ];
      if (!all.some((c) => c.name === container)) {
        throw new VicError(
          'NotFound',
          `container "${container}" not found in pod ${ref.namespace}/${ref.name}`,
        );
      }
    }
    return uid;
  }
}

/**
 * A pod's timestamp as a Date. client-node types them as Date, but pods that reach the informer through a
 * watch event are plain JSON, so their timestamps are RFC 3339 strings; an unreadable one is undefined.
 */
function asDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function sum(samples: UsageSample[]): UsageSample {
  const total: UsageSample = {
    time: new Date(0),
    usageCoreNanoSeconds: 0,
    workingSetBytes: 0,
    usageBytes: 0,
  };
  let nano: number | undefined;
  for (const s of samples) {
    if (s.time > total.time) total.time = s.time;
    total.usageCoreNanoSeconds += s.usageCoreNanoSeconds;
    total.workingSetBytes += s.workingSetBytes;
    total.usageBytes = (total.usageBytes ?? 0) + (s.usageBytes ?? 0);
    if (s.usageNanoCores !== undefined) nano = (nano ?? 0) + s.usageNanoCores;
  }
  if (nano !== undefined) total.usageNanoCores = nano;
  if (samples.length === 0) total.time = new Date();
  return total;
}
