// The pod controller: every pod bound to this node runs as one pod VM. Informer events, VCH events
// and a slow resync only enqueue keys; PodSync.sync(key) does the work, one key at a time. A failure
// is retried with back-off or given up, as the retry policy beside the queue decides. On start-up the first list and the VCH's labels together adopt
// running pod VMs, remove those whose pod is gone and create those missing.
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../shared/clock.js';
import { findVicError, messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type {
  LayoutLimits,
  PodVmLifecycle,
  PodVmStreams,
  Vch,
  VchImages,
  VchVolumes,
} from '../../vch/index.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import type { NodeAllocatable } from './admission.js';
import { PodInformer } from './pod-informer.js';
import { isTerminal, PodSync, type PodConfig } from './pod-sync.js';
import { RetryPolicy, type RetryPolicyOptions } from './retry-policy.js';
import { WorkQueue } from './work-queue.js';
import type { PodClaims } from '../storage/claim-volumes.js';

export interface PodSyncObserver {
  /** Called after every pass, for metrics: how long it took and how it ended. */
  synced(durationMs: number, error?: string): void;
}

/** The pods bound to this node, as the controller reads them: the informer, or a fake in unit tests. */
export interface PodSource {
  start(): Promise<void>;
  stop(): void;
  /** True once the first list has been seen: before that, "not in the cache" means nothing. */
  readonly synced: boolean;
  get(key: string): V1Pod | undefined;
  list(): V1Pod[];
}

export interface PodControllerOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  /** What the controller uses of the VCH, and no more. */
  vch: {
    pods: PodVmLifecycle;
    images: VchImages;
    watch: Vch['watch'];
    streams: Pick<PodVmStreams, 'exec' | 'logs'>;
    volumes?: VchVolumes;
  };
  nodeName: string;
  hostIP: string;
  allocatable: () => NodeAllocatable;
  recorder: EventRecorder;
  logger: Logger;
  clock?: Clock;
  workers?: number;
  resyncIntervalMs?: number;
  observer?: PodSyncObserver;
  /** What the VCH's pod layout can give a pod, for admission. */
  layoutLimits?: () => LayoutLimits | undefined;
  /** The operator's `--allowed-unsafe-sysctls`. */
  allowedUnsafeSysctls?: readonly string[];
  /** The API server and cluster DNS as pods see them (issue 10). */
  podConfig?: PodConfig;
  retry?: RetryPolicyOptions;
  /** Where pods come from; the API server's list-and-watch unless a test gives its own. */
  podSource?: (onChange: (key: string) => void) => PodSource;
  /** The node's persistentVolumeClaims (issue 16). */
  claims?: PodClaims;
}

export class PodController {
  readonly #o: PodControllerOptions;
  readonly #queue: WorkQueue;
  readonly #informer: PodSource;
  readonly #sync: PodSync;
  readonly #log: Logger;
  readonly #retries: RetryPolicy;
  readonly #clock: Clock;
  #watch: { stop(): void } | undefined;

  constructor(options: PodControllerOptions) {
    this.#o = options;
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    this.#log = options.logger.child({ component: 'pod-controller' });
    this.#queue = new WorkQueue({ clock });
    this.#retries = new RetryPolicy(options.retry);
    const onChange = (key: string) => this.#queue.add(key);
    this.#informer =
      options.podSource?.(onChange) ??
      new PodInformer({
        kubeConfig: options.kubeConfig,
        core: options.core,
        nodeName: options.nodeName,
        logger: options.logger,
        onChange,
      });
    this.#sync = new PodSync({
      core: options.core,
      kubeConfig: options.kubeConfig,
      pods: options.vch.pods,
      images: options.vch.images,
      nodeName: options.nodeName,
      hostIP: options.hostIP,
      allocatable: options.allocatable,
      ...(options.layoutLimits ? { layoutLimits: options.layoutLimits } : {}),
      ...(options.allowedUnsafeSysctls ? { allowedUnsafeSysctls: options.allowedUnsafeSysctls } : {}),
      recorder: options.recorder,
      clock,
      logger: options.logger,
      exec: (target, command, io) => options.vch.streams.exec(target, command, io),
      logs: (target, logOptions) => options.vch.streams.logs(target, logOptions),
      onHealthChange: (key) => this.#queue.add(key),
      onStatusWriteFailed: (key) => this.#queue.add(key),
      ...(options.vch.volumes ? { volumes: options.vch.volumes } : {}),
      ...(options.podConfig ? { podConfig: options.podConfig } : {}),
      ...(options.claims ? { claims: options.claims } : {}),
    });
  }

  /** The kubelet's prober metrics. */
  probeMetrics(): Promise<{ contentType: string; text: string }> {
    return this.#sync.probeMetrics();
  }

  /** The pods of this node as the informer sees them. */
  pods(): V1Pod[] {
    return this.#informer.list();
  }

  pod(namespace: string, name: string): V1Pod | undefined {
    return this.#informer.get(`${namespace}/${name}`);
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.#informer.start();
    this.#sync.start();
    this.#watch = this.#o.vch.watch({
      onEvent: (event) => this.#queue.add(`${event.podNamespace}/${event.podName}`),
      onResync: () => this.#resync(),
      ...(this.#o.resyncIntervalMs ? { resyncIntervalMs: this.#o.resyncIntervalMs } : {}),
    });
    signal.addEventListener('abort', () => this.stop(), { once: true });
    await this.#resync();
    await this.#queue.run((key) => this.#handle(key), this.#o.workers ?? 16);
  }

  stop(): void {
    this.#watch?.stop();
    this.#informer.stop();
    this.#queue.shutDown();
    this.#sync.stop();
  }

  /** Every pod key the API server or the VCH knows of. */
  async #resync(): Promise<void> {
    if (!this.#informer.synced) return;
    for (const pod of this.#informer.list())
      this.#queue.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    try {
      for (const vm of await this.#o.vch.pods.list()) this.#queue.add(`${vm.pod.namespace}/${vm.pod.name}`);
    } catch (err) {
      this.#log.warn({ err: messageOf(err) }, 'resync could not list pod VMs');
    }
  }

  async #handle(key: string): Promise<void> {
    if (!this.#informer.synced) {
      // Before the first list, a missing pod looks deleted: wait rather than remove its pod VM.
      this.#queue.addAfter(key, 500);
      return;
    }
    const started = this.#clock.now();
    try {
      const [namespace, name] = key.split('/');
      // Only this pod's containers: a list of the whole node per sync made a burst of N pods cost
      // the engine O(N²) (the bench profile of a 100-pod burst, issue 15).
      const vms = (await this.#o.vch.pods.list({ namespace: namespace ?? '', name: name ?? '' })).filter(
        (vm) => vm.pod.namespace === namespace && vm.pod.name === name,
      );
      const result = await this.#sync.sync(key, this.#informer.get(key), vms, () => this.#activePods());
      this.#retries.forget(key);
      if (result.requeueAfterMs !== undefined) this.#queue.addAfter(key, result.requeueAfterMs);
      this.#o.observer?.synced(this.#clock.now() - started);
    } catch (err) {
      this.#failed(key, err);
      this.#o.observer?.synced(this.#clock.now() - started, findVicError(err)?.code ?? 'Internal');
    }
  }

  /** Retries the key with back-off, or gives it up with a log line and an event on the pod. */
  #failed(key: string, err: unknown): void {
    const decision = this.#retries.decide(key, err);
    const code = findVicError(err)?.code;
    if (decision.kind === 'retry') {
      this.#log.warn(
        { pod: key, err: messageOf(err), code, attempt: decision.attempt, retryInMs: decision.afterMs },
        'pod sync failed; retrying',
      );
      this.#queue.addAfter(key, decision.afterMs);
      return;
    }
    const why =
      decision.why === 'permanent'
        ? 'the request is invalid and trying again gives the same answer'
        : `it failed ${decision.attempts} times in a row`;
    this.#log.error(
      { pod: key, err: messageOf(err), code, attempts: decision.attempts },
      `pod sync given up (${why}); a change to the pod or its pod VM, or the next resync, tries again`,
    );
    const pod = this.#informer.get(key);
    if (pod) {
      this.#o.recorder.record(pod, {
        type: 'Warning',
        reason: 'FailedSync',
        message: `Error syncing pod, giving up until the pod changes (${why}): ${messageOf(err)}`,
      });
    }
  }

  #activePods(): V1Pod[] {
    return this.#informer.list().filter((p) => !isTerminal(p) && !p.metadata?.deletionTimestamp);
  }
}
