// The prober: one worker per probe of each running container, all driven by one scheduler, with
// results kept in memory by container ID as the kubelet's prober keeps them (pkg/kubelet/prober/
// worker.go, prober.go). A result that changes a container's health (ready, started, failed) asks
// for a pass of its pod; the pod state then decides what to do with it.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../../shared/clock.js';
import type { Logger } from '../../../shared/logger.js';
import type { ContainerStatus, PodVmStatus } from '../../../vch/types.js';
import type { EventRecorder } from '../../kube/event-recorder.js';
import { fieldPathOf } from '../pod-names.js';
import type { ContainerHealth } from '../state/container-plan.js';
import { ProbeMetrics } from './metrics.js';
import { containerProbes, probeSpec, type ProbeSpec, type ProbeType } from './probe-spec.js';
import { runProbe, type ExecInContainer, type ProbeOutcome, type ProbeResult } from './runners.js';
import { ProbeScheduler, type Scheduled } from './scheduler.js';
import { ExecBudget } from './exec-budget.js';
import { runInPod } from './in-pod.js';
import { ProbeRoutes, type ProbeNetwork, type ProbeRoute, type ReachabilityCheck } from './network-route.js';

/**
 * Exec probes at once per VCH. Measured (bench/probes.ts, 2 cores): an exec costs the engine about
 * 70 ms of CPU, so a handful at once already keeps the engine busy; more only queue inside it.
 */
export const defaultExecBudget = 8;

export interface ProberOptions {
  exec: ExecInContainer;
  clock: Clock;
  recorder: EventRecorder;
  logger: Logger;
  /** A container's health changed: the pod wants a pass. */
  onChange: (podKey: string) => void;
  /** At most this many exec probes at once, so the VCH is never swamped (network probes cost it nothing). */
  maxConcurrentExec?: number;
  /** Runs one probe; the real handlers by default (tests replace it). */
  run?: typeof runProbe;
  /** Where network probes run from (--probe-network, whose default is auto); direct when not given. */
  network?: ProbeNetwork;
  /** How `auto` checks that a pod IP is reachable (tests replace it). */
  reachability?: ReachabilityCheck;
  /** Runs a network probe inside the pod VM; the real one by default (tests replace it). */
  runInPod?: typeof runInPod;
}

interface Worker {
  key: string;
  pod: V1Pod;
  podKey: string;
  containerName: string;
  containerId: string;
  startedAtMs: number;
  spec: ProbeSpec;
  result: ProbeResult | undefined;
  resultRun: number;
  /** A liveness or startup failure holds the worker until the container is replaced. */
  onHold: boolean;
  busy: boolean;
  timer?: Scheduled;
  /** When the next probe is due (clock time): how late it runs is measured from here. */
  dueMs: number;
  stopped: boolean;
}

const capitalized: Record<ProbeType, string> = {
  liveness: 'Liveness',
  readiness: 'Readiness',
  startup: 'Startup',
};

export class Prober {
  readonly metrics = new ProbeMetrics();
  readonly #o: ProberOptions;
  readonly #scheduler: ProbeScheduler;
  readonly #workers = new Map<string, Worker>();
  readonly #health = new Map<string, ContainerHealth>();
  readonly #podIPs = new Map<string, string>();
  readonly #log: Logger;
  readonly #run: typeof runProbe;
  readonly execBudget: ExecBudget;
  readonly #routes: ProbeRoutes;
  readonly #runInPod: typeof runInPod;

  constructor(options: ProberOptions) {
    this.#o = options;
    this.#scheduler = new ProbeScheduler(options.clock);
    this.#log = options.logger.child({ component: 'prober' });
    this.#run = options.run ?? runProbe;
    this.execBudget = new ExecBudget(options.maxConcurrentExec ?? defaultExecBudget);
    this.#routes = new ProbeRoutes(options.network ?? 'direct', options.reachability);
    this.#runInPod = options.runInPod ?? runInPod;
    const budget = this.execBudget;
    this.metrics.watchExecBudget(() => ({ inFlight: budget.inFlight, waiting: budget.waiting }));
  }

  /** The health of one container, by Docker container ID. */
  readonly health = (containerId: string): ContainerHealth | undefined => this.#health.get(containerId);

  /** Number of probe workers running. */
  get workers(): number {
    return this.#workers.size;
  }

  /**
   * After each pass: a worker for every probe of every running container of the pod, none for
   * anything else. A restarted container has a new ID, so its probes start afresh.
   */
  update(pod: V1Pod, vm: PodVmStatus | undefined): void {
    const uid = pod.metadata?.uid ?? '';
    const podKey = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (vm?.podIP) this.#podIPs.set(uid, vm.podIP);
    const wanted = new Set<string>();
    const statuses = [...(vm?.initContainers ?? []), ...(vm?.containers ?? [])];
    for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const status = statuses.find((s) => s.name === container.name);
      if (!status || status.state.kind !== 'running') continue;
      for (const { type, probe } of containerProbes(container)) {
        const key = `${uid}/${container.name}/${type}/${status.id}`;
        wanted.add(key);
        const existing = this.#workers.get(key);
        if (existing) {
          existing.pod = pod;
          continue;
        }
        const spec = probeSpec(type, probe, container);
        if (typeof spec === 'string') {
          this.#log.warn(
            { pod: podKey, container: container.name, probe: type, why: spec },
            'probe cannot run',
          );
          continue;
        }
        this.#start(pod, podKey, container, status, spec, key);
      }
    }
    for (const [key, worker] of this.#workers) {
      if (key.startsWith(`${uid}/`) && !wanted.has(key)) this.#stop(worker);
    }
  }

  /** Stops every worker of a pod that is gone. */
  forget(uid: string): void {
    for (const [key, worker] of this.#workers) if (key.startsWith(`${uid}/`)) this.#stop(worker);
    this.#podIPs.delete(uid);
    this.#routes.forget(uid);
  }

  stop(): void {
    for (const worker of this.#workers.values()) this.#stop(worker);
    this.#scheduler.stop();
  }

  #start(
    pod: V1Pod,
    podKey: string,
    container: V1Container,
    status: ContainerStatus,
    spec: ProbeSpec,
    key: string,
  ): void {
    const startedAtMs =
      status.state.kind === 'running' ? status.state.startedAt.getTime() : this.#o.clock.now();
    const worker: Worker = {
      key,
      pod,
      podKey,
      containerName: container.name,
      containerId: status.id,
      startedAtMs,
      spec,
      result: undefined,
      resultRun: 0,
      onHold: false,
      busy: false,
      dueMs: 0,
      stopped: false,
    };
    this.#workers.set(key, worker);
    // The kubelet's initial values: readiness Failure, startup not started, liveness Success.
    const health = this.#healthOf(status.id);
    if (spec.type === 'readiness') health.ready ??= false;
    if (spec.type === 'startup') health.started ??= false;
    this.#schedule(worker, Math.max(this.#o.clock.now(), startedAtMs + spec.initialDelayMs));
  }

  #stop(worker: Worker): void {
    worker.stopped = true;
    worker.timer?.cancel();
    this.#workers.delete(worker.key);
    if (![...this.#workers.values()].some((w) => w.containerId === worker.containerId)) {
      this.#health.delete(worker.containerId);
    }
    const uid = worker.pod.metadata?.uid ?? '';
    if (![...this.#workers.values()].some((w) => w.key.startsWith(`${uid}/${worker.containerName}/`))) {
      this.metrics.forget({
        container: worker.containerName,
        pod: worker.pod.metadata?.name ?? '',
        namespace: worker.pod.metadata?.namespace ?? '',
        podUid: uid,
      });
    }
  }

  #healthOf(containerId: string): ContainerHealth {
    let h = this.#health.get(containerId);
    if (!h) {
      h = {};
      this.#health.set(containerId, h);
    }
    return h;
  }

  async #tick(worker: Worker): Promise<void> {
    if (worker.stopped) return;
    try {
      if (!worker.busy && this.#shouldProbe(worker)) {
        worker.busy = true;
        try {
          await this.#probeOnce(worker);
        } finally {
          worker.busy = false;
        }
      }
    } catch (err) {
      this.#log.warn({ pod: worker.podKey, container: worker.containerName, err }, 'probe failed to run');
    }
    if (worker.stopped) return;
    // The next period counts from the end of this probe: a probe that ran late never leaves a
    // backlog of due runs behind it.
    this.#schedule(worker, this.#o.clock.now() + worker.spec.periodMs);
  }

  #schedule(worker: Worker, atMs: number): void {
    worker.dueMs = atMs;
    worker.timer = this.#scheduler.at(atMs, () => void this.#tick(worker));
  }

  /** worker.go doProbe: startup probes stop once passed; the others wait for the container to start. */
  #shouldProbe(worker: Worker): boolean {
    if (worker.onHold) return false;
    const health = this.#health.get(worker.containerId);
    const started = health?.started !== false;
    if (worker.spec.type === 'startup') return !started;
    return started;
  }

  async #probeOnce(worker: Worker): Promise<void> {
    const { spec } = worker;
    const uid = worker.pod.metadata?.uid ?? '';
    const labels = {
      type: spec.type,
      container: worker.containerName,
      pod: worker.pod.metadata?.name ?? '',
      namespace: worker.pod.metadata?.namespace ?? '',
      podUid: uid,
    };
    let began = this.#o.clock.now();
    const started = () => {
      began = this.#o.clock.now();
      this.metrics.observeDelay(spec.type, Math.max(0, began - worker.dueMs) / 1000);
    };
    const target = {
      uid,
      containerName: worker.containerName,
      containerId: worker.containerId,
      podIP: this.#podIPs.get(uid),
    };
    const options = { timeoutMs: spec.timeoutMs, exec: this.#o.exec, clock: this.#o.clock };
    const { handler } = spec;
    const route: ProbeRoute =
      handler.kind === 'exec' || !target.podIP
        ? 'direct'
        : await this.#routes.route(uid, target.podIP, handler.port, (decided) =>
            this.#log.info(
              { pod: worker.podKey, route: decided },
              decided === 'in-pod'
                ? 'the pod IP is not reachable from here: network probes run inside the pod VM'
                : 'the pod IP is reachable: network probes run from vic-kubelet',
            ),
          );
    if (worker.stopped) return;
    // An exec, and a network probe run inside the pod VM (an exec too), take a slot of the VCH's budget.
    const outcome =
      handler.kind === 'exec'
        ? await this.execBudget.run(() => this.#run(handler, target, options), started)
        : route === 'in-pod'
          ? await this.execBudget.run(() => this.#runInPod(handler, target, options), started)
          : (started(), await this.#run(handler, target, options));
    if (worker.stopped) return;
    this.metrics.observe(labels, outcome.result, (this.#o.clock.now() - began) / 1000);
    this.#record(worker, outcome);
  }

  /** The result-run logic of worker.go: a verdict changes only after its threshold of results in a row. */
  #record(worker: Worker, outcome: ProbeOutcome): void {
    const { spec } = worker;
    if (outcome.result === 'unknown') return;
    if (outcome.result === 'failure') {
      this.#o.recorder.record(worker.pod, {
        type: 'Warning',
        reason: 'Unhealthy',
        message: `${capitalized[spec.type]} probe failed: ${outcome.output.trim()}`,
        fieldPath: fieldPathOf(worker.pod, worker.containerName),
      });
    }
    if (worker.result === outcome.result) worker.resultRun += 1;
    else {
      worker.result = outcome.result;
      worker.resultRun = 1;
    }
    const threshold = outcome.result === 'success' ? spec.successThreshold : spec.failureThreshold;
    if (worker.resultRun < threshold) return;
    const health = this.#healthOf(worker.containerId);
    const before = { ready: health.ready, started: health.started, failed: health.failed };
    const ok = outcome.result === 'success';
    if (spec.type === 'readiness') health.ready = ok;
    if (spec.type === 'startup' && ok) health.started = true;
    if (!ok && spec.type !== 'readiness') {
      health.failed = {
        probe: spec.type === 'startup' ? 'startup' : 'liveness',
        message: outcome.output.trim(),
        ...(spec.terminationGracePeriodSeconds !== undefined
          ? { graceSeconds: spec.terminationGracePeriodSeconds }
          : {}),
      };
      worker.onHold = true;
      worker.resultRun = 0;
    }
    if (health.ready !== before.ready || health.started !== before.started || health.failed !== before.failed)
      this.#o.onChange(worker.podKey);
  }
}
