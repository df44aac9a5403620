// A KubeletProvider for tests of the kubelet API: canned pods, logs and usage, follow streams the test
// writes to, and a record of what the server asked for.
import { PassThrough, Readable, type Duplex } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type {
  AttachIO,
  ExitResult,
  KubeletProvider,
  LogOptions,
  NodeUsage,
  PodRef,
} from '../../provider/kubelet-api.js';
import { VicError } from '../../shared/errors.js';

export interface FollowStream {
  pod: PodRef;
  container: string;
  options: LogOptions;
  signal: AbortSignal;
  stream: PassThrough;
}

export function fakePod(namespace: string, name: string, containers: string[], uid = `uid-${name}`): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, uid, creationTimestamp: new Date('2024-05-01T12:00:00.123Z') },
    spec: { containers: containers.map((c) => ({ name: c, image: 'busybox' })), nodeName: 'vk-test' },
    status: { phase: 'Running' },
  };
}

export class FakeKubeletProvider implements KubeletProvider {
  pods: V1Pod[] = [];
  runningPods: V1Pod[] | undefined;
  /** Log text by "namespace/pod/container". */
  readonly logs = new Map<string, string>();
  readonly follows: FollowStream[] = [];
  readonly logRequests: Array<{ pod: PodRef; container: string; options: LogOptions }> = [];
  readonly execs: Array<{ pod: PodRef; container: string; command: string[] }> = [];
  exitCode = 0;
  usageResult: NodeUsage | Error = {
    nodeName: 'vk-test',
    startTime: new Date(0),
    total: { time: new Date(0), usageCoreNanoSeconds: 0, workingSetBytes: 0 },
    pods: [],
  };

  #find(pod: PodRef, container?: string): V1Pod {
    const found = this.pods.find(
      (p) =>
        p.metadata?.namespace === pod.namespace &&
        p.metadata?.name === pod.name &&
        (pod.uid === undefined || p.metadata?.uid === pod.uid),
    );
    if (!found) throw new VicError('NotFound', `pod ${pod.namespace}/${pod.name} not found on this node`);
    if (container !== undefined && !found.spec?.containers.some((c) => c.name === container)) {
      throw new VicError('NotFound', `container ${container} not found in pod ${pod.namespace}/${pod.name}`);
    }
    return found;
  }

  async listPods(): Promise<V1Pod[]> {
    return this.pods;
  }

  async listRunningPods(): Promise<V1Pod[]> {
    return this.runningPods ?? this.pods;
  }

  async containerLogs(
    pod: PodRef,
    container: string,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<Readable> {
    this.#find(pod, container);
    this.logRequests.push({ pod, container, options });
    if (options.follow) {
      const stream = new PassThrough();
      this.follows.push({ pod, container, options, signal, stream });
      return stream;
    }
    return Readable.from([Buffer.from(this.logs.get(`${pod.namespace}/${pod.name}/${container}`) ?? '')]);
  }

  async exec(pod: PodRef, container: string, command: string[], io: AttachIO): Promise<ExitResult> {
    this.#find(pod, container);
    this.execs.push({ pod, container, command });
    io.stdout?.write(`ran ${command.join(' ')}\n`);
    io.stderr?.write('on stderr\n');
    return { exitCode: this.exitCode };
  }

  async attach(pod: PodRef, container: string): Promise<ExitResult> {
    this.#find(pod, container);
    return { exitCode: 0 };
  }

  async portForward(pod: PodRef, _port: number, stream: Duplex): Promise<void> {
    this.#find(pod);
    stream.end();
  }

  async usage(): Promise<NodeUsage> {
    if (this.usageResult instanceof Error) throw this.usageResult;
    return this.usageResult;
  }
}
