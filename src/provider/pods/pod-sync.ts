// One pass of the pod controller over one pod: derive the pod's state from the API server's pod and
// the VCH (src/provider/pods/state/pod-state.ts decides), carry out the steps of that one decision,
// and write the status. Safe to run twice, and safe after a crash at any point: every decision is
// re-derived from the VCH, and every VCH call is idempotent.
import type { CoreV1Api, KubeConfig, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Clock } from '../../shared/clock.js';
import { isConflict, isNotFound, VicError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { LayoutLimits, PodVmLifecycle, VchImages, VchVolumes } from '../../vch/index.js';
import type { PodIdentity, PodVm, PodVmStatus } from '../../vch/types.js';
import { callApi } from '../kube/api-errors.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import { admit, type NodeAllocatable } from './admission.js';
import { apiConfigSources } from './config-sources.js';
import { ContainerSteps, type StepContext, type StepOutcome } from './container-steps.js';
import { buildPodStatus, type Waiting } from './pod-status.js';
import { podVmSpec } from './pod-vm-spec.js';
import { pullCredentials } from './pull-secrets.js';
import { noHealth, type HealthOf, type PodPlan } from './state/container-plan.js';
import {
  decide,
  isDeclared,
  needsStatus,
  podStateOf,
  type PodDecision,
  type PodStep,
} from './state/pod-state.js';
import { Hooks } from './hooks.js';
import { TerminationMessages, type TerminationMessagesOptions } from './termination-messages.js';
import { Termination } from './termination.js';
import { ProbeMetrics } from './probes/metrics.js';
import { Prober } from './probes/prober.js';
import type { ExecInContainer } from './probes/runners.js';
import { StatusWriter } from './status-writer.js';
import { ConfigCache } from './config-cache.js';
import { ServiceCache } from './service-cache.js';
import { downwardContext, type PodConfig } from './pod-config.js';
import { podDns } from './pod-dns.js';
import { PodVolumeManager } from './volumes/pod-volumes.js';
import { hasClaims, type PodClaims } from '../storage/claim-volumes.js';
import { Resizer, type ResizeOutcome } from './resize/resizer.js';
import type { ContainerResize } from './resize/resize-plan.js';
import { staleResizeConditions, withResize, type ResizeReport } from './resize/resize-status.js';

export type { PodConfig } from './pod-config.js';

export { isTerminal } from './state/pod-state.js';

export interface PodSyncOptions {
  core: CoreV1Api;
  /** For the watches that serve ConfigMaps, Secrets and Services; without it, each read is a request. */
  kubeConfig?: KubeConfig;
  pods: PodVmLifecycle;
  images: VchImages;
  nodeName: string;
  hostIP: string;
  allocatable: () => NodeAllocatable;
  /** What the VCH's pod layout can give a pod (src/vch knows; admission refuses the rest). */
  layoutLimits?: () => LayoutLimits | undefined;
  /** The operator's `--allowed-unsafe-sysctls`. */
  allowedUnsafeSysctls?: readonly string[];
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** Runs a probe's or hook's command in a container; without it, no prober runs (unit tests). */
  exec?: ExecInContainer;
  /** A probe changed a container's health: its pod wants a pass. */
  onHealthChange?: (podKey: string) => void;
  /** A status held for coalescing could not be written after its pass: the pod wants a pass. */
  onStatusWriteFailed?: (podKey: string) => void;
  /** Probe results by container ID, for tests without a prober. */
  health?: HealthOf;
  /** A container's log, for FallbackToLogsOnError. */
  logs?: TerminationMessagesOptions['logs'];
  /** The pod's volumes on the VCH; without it a pod with volumes cannot get their content. */
  volumes?: VchVolumes;
  podConfig?: PodConfig;
  /** The node's persistentVolumeClaims (issue 16); without it a pod with a claim waits. */
  claims?: PodClaims;
}

/** What a pass asks of the queue: run again after this long (back-off, pull retry), or not. */
export interface SyncResult {
  requeueAfterMs?: number;
}

/** A pass carries the pod through at most this many moves before it writes the status. */
const maxMovesPerPass = 4;

/** The pod as src/vch names it. */
function podIdentity(pod: V1Pod): PodIdentity {
  const meta = pod.metadata ?? {};
  return { namespace: meta.namespace ?? '', name: meta.name ?? '', uid: meta.uid ?? '' };
}
const staleGraceSeconds = 1;
/** How soon a pod waiting for its claim (unbound, or held by another pod) looks again. */
const claimRetryMs = 3_000;
const emptyProbeMetrics = new ProbeMetrics();

/**
 * Conditions merge by type under a strategic merge patch, so a field we no longer write would
 * survive from the last patch (a Ready=True still saying "containers with unready status"). An
 * explicit null removes it.
 */
function withClearedFields(status: V1PodStatus): Record<string, unknown> {
  // podIPs and hostIPs merge by IP: a pod VM that got a new IP would end up with both, which the API
  // server refuses. They are ours alone, so the patch replaces them whole.
  const replace = <T>(list: T[] | undefined) => (list ? [...list, { $patch: 'replace' }] : undefined);
  return {
    ...status,
    conditions: status.conditions?.map((c) => ({ reason: null, message: null, ...c })),
    podIPs: replace(status.podIPs),
    hostIPs: replace(status.hostIPs),
  };
}

export class PodSync {
  readonly #o: PodSyncOptions;
  readonly #steps: ContainerSteps;
  readonly #termination: Termination;
  readonly #admitted = new Set<string>();
  readonly #log: Logger;
  readonly #prober: Prober | undefined;
  readonly #health: HealthOf;
  readonly #messages: TerminationMessages;
  readonly #volumes: PodVolumeManager | undefined;
  readonly #resizer: Resizer;
  readonly #statuses: StatusWriter;
  readonly #configs: ConfigCache | undefined;
  readonly #services: ServiceCache | undefined;

  constructor(options: PodSyncOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'pods' });
    if (options.kubeConfig) {
      const shared = { kubeConfig: options.kubeConfig, core: options.core, logger: options.logger };
      this.#configs = new ConfigCache(shared);
      const address = options.podConfig?.kubernetesServiceAddress;
      this.#services = new ServiceCache({ ...shared, ...(address ? { kubernetesAddress: address } : {}) });
    }
    this.#statuses = new StatusWriter({
      core: options.core,
      clock: options.clock,
      logger: options.logger,
      ...(options.onStatusWriteFailed ? { onWriteFailed: options.onStatusWriteFailed } : {}),
    });
    this.#prober = options.exec
      ? new Prober({
          exec: options.exec,
          clock: options.clock,
          recorder: options.recorder,
          logger: options.logger,
          onChange: (key) => options.onHealthChange?.(key),
          ...(options.podConfig?.probeNetwork ? { network: options.podConfig.probeNetwork } : {}),
        })
      : undefined;
    this.#health = this.#prober?.health ?? options.health ?? noHealth;
    this.#messages = new TerminationMessages({
      readFile: (id, path, max) => options.pods.readFile(id, path, max),
      ...(options.logs ? { logs: options.logs } : {}),
      logger: options.logger,
    });
    const hooks = options.exec
      ? new Hooks({ exec: options.exec, clock: options.clock, logger: options.logger })
      : undefined;
    this.#termination = new Termination({
      pods: options.pods,
      recorder: options.recorder,
      logger: options.logger,
      clock: options.clock,
      ...(hooks
        ? { preStop: (pod, container, id, budgetMs) => hooks.preStop(pod, container, id, budgetMs) }
        : {}),
    });
    this.#steps = new ContainerSteps({
      ...options,
      ...(this.#services ? { services: this.#services.sources() } : {}),
      kill: (pod, name, id, grace) => this.#termination.killContainer(pod, name, id, grace),
      ...(hooks ? { postStart: (pod, container, at) => hooks.postStart(pod, container, at) } : {}),
    });
    this.#resizer = new Resizer({
      pods: options.pods,
      recorder: options.recorder,
      logger: options.logger,
      restart: (pod, r) => this.#restartForResize(pod, r),
    });
    this.#volumes = options.volumes
      ? new PodVolumeManager({
          vch: options.volumes,
          core: options.core,
          recorder: options.recorder,
          clock: options.clock,
          logger: options.logger,
        })
      : undefined;
  }

  /**
   * Reconciles one pod key. `pod` is the informer's copy (undefined when the pod is gone), `vms`
   * every pod VM on the VCH with this namespace and name, `active` the node's other pods.
   */
  async sync(
    key: string,
    informed: V1Pod | undefined,
    vms: PodVm[],
    active: () => V1Pod[],
  ): Promise<SyncResult> {
    // The status our last patch made, while the informer has not caught up: building on the older
    // copy would write the same change again.
    const pod = informed && this.#statuses.freshest(informed);
    const uid = pod?.metadata?.uid;
    // A pod VM whose pod is gone, or was replaced by a new pod of the same name, goes.
    for (const stale of vms.filter((vm) => vm.pod.uid !== uid)) {
      this.#log.info({ pod: key, uid: stale.pod.uid }, 'removing pod VM of a pod that no longer exists');
      // The pod object is gone (force-deleted or replaced): nobody waits for a grace period any more,
      // so the kubelet's floor of 1 s applies (pod_workers.go calculateEffectiveGracePeriod).
      await this.#o.pods.stop(stale.pod.uid, staleGraceSeconds);
      await this.#o.pods.remove(stale.pod.uid);
      this.#forget(stale.pod.uid, stale.sandbox?.id);
    }
    if (!pod || !uid) return {};
    const vm = vms.find((v) => v.pod.uid === uid);
    if (vm || pod.status?.startTime) this.#admitted.add(uid);
    return this.#pass(pod, vm, active);
  }

  /** The kubelet's prober metrics (GET /metrics/probes). */
  probeMetrics(): Promise<{ contentType: string; text: string }> {
    return (this.#prober?.metrics ?? emptyProbeMetrics).exposition();
  }

  /** Starts what the node keeps for all its pods: the watch of Services (their link variables). */
  start(): void {
    this.#services?.start();
  }

  /** Stops the prober's timers and the watches. */
  stop(): void {
    this.#prober?.stop();
    this.#configs?.stop();
    this.#services?.stop();
  }

  /** Pods this node has admitted: their requests count against Allocatable. */
  isAdmitted(uid: string): boolean {
    return this.#admitted.has(uid);
  }

  async #pass(pod: V1Pod, vm: PodVm | undefined, active: () => V1Pod[]): Promise<SyncResult> {
    const o = this.#o;
    const uid = pod.metadata?.uid ?? '';
    const health = this.#health;
    const retries: number[] = [];
    const waiting = new Map<string, Waiting>();
    const admission = () => {
      const others = active().filter(
        (p) => p.metadata?.uid !== uid && this.#admitted.has(p.metadata?.uid ?? ''),
      );
      return admit(pod, others, o.allocatable(), o.layoutLimits?.(), {
        ...(o.allowedUnsafeSysctls ? { allowedUnsafeSysctls: o.allowedUnsafeSysctls } : {}),
      });
    };
    let ctx: StepContext | undefined;
    let status: PodVmStatus | undefined;
    let decision: PodDecision | undefined;
    let statusFresh = false;
    // Whether the pod VM may exist: it did when the pass began, or a move since may have made it
    // (admission alone makes nothing on the VCH, so a new pod's first read is skipped).
    let vmMayExist = vm !== undefined;
    for (let moves = 0; moves < maxMovesPerPass; moves++) {
      const admitted = this.#admitted.has(uid);
      const kind = podStateOf({ pod, admitted });
      if (needsStatus(kind) && !statusFresh) {
        status = vmMayExist ? await o.pods.status(uid, podIdentity(pod)) : undefined;
        statusFresh = true;
      }
      decision = decide({ pod, vm, status, admitted, admission, health, nowMs: o.clock.now() });
      if (!isDeclared(decision)) {
        this.#log.error(
          { pod: pod.metadata?.name, from: decision.from, to: decision.to },
          'undeclared pod state move',
        );
      }
      if (decision.requeueAfterMs !== undefined) retries.push(decision.requeueAfterMs);
      // Pull secrets are read once, by the first move that may pull.
      if (!ctx || (needsStatus(kind) && !ctx.credentialsRead)) {
        ctx = await this.#context(pod, status, waiting, needsStatus(kind));
      }
      ctx.status = status;
      let changed = false;
      let failed = false;
      for (const step of decision.steps) {
        const outcome = await this.#carryOut(step, ctx, decision, active);
        if (outcome.retryAfterMs !== undefined) retries.push(outcome.retryAfterMs);
        changed ||= outcome.changed;
        failed ||= outcome.failed === true;
        // A step that could not be done (volumes not ready) holds back the steps after it.
        if (outcome.failed) break;
      }
      if (changed) statusFresh = false;
      if (changed && decision.from !== 'admitting') vmMayExist = true;
      if (!changed || failed || decision.to === 'terminated') break;
    }
    let resize: ResizeOutcome | undefined;
    if (decision?.plan && !ctx?.statusWritten) {
      if (!statusFresh) status = await o.pods.status(uid);
      // In-place resize (resize/): the running containers brought to the spec's resources, or not.
      if (status && decision.to === 'running') {
        resize = await this.#resizer.reconcile({
          pod,
          vm: status,
          allocatable: o.allocatable(),
          others: active().filter(
            (p) => p.metadata?.uid !== uid && this.#admitted.has(p.metadata?.uid ?? ''),
          ),
          limits: o.layoutLimits?.(),
        });
        if (resize.changed) {
          status = await o.pods.status(uid);
          statusFresh = false;
        }
      }
      // Probe workers first: a container with a readiness or startup probe is written unready and
      // not started from its very first status, as the kubelet's initial results say.
      this.#prober?.update(pod, status);
      const plan = statusFresh
        ? decision.plan
        : decide({ pod, vm, status, admitted: true, admission, health, nowMs: o.clock.now() }).plan;
      // A pod that waits for something (a retry, a back-off, a failed step) is not about to change:
      // its status is written at once, not held for a successor (status-writer.ts).
      if (plan)
        await this.#writeStatus(pod, status, plan, waiting, decision, {
          resize: resize ?? {},
          mayHold: retries.length === 0,
        });
    } else if (decision?.plan) this.#prober?.update(pod, status);
    else this.#prober?.forget(uid);
    return retries.length ? { requeueAfterMs: Math.max(0, Math.min(...retries)) } : {};
  }

  async #context(
    pod: V1Pod,
    status: PodVmStatus | undefined,
    waiting: Map<string, Waiting>,
    runsContainers: boolean,
  ): Promise<StepContext> {
    const sources = this.#configs?.sources(pod.metadata?.uid ?? '') ?? apiConfigSources(this.#o.core);
    // Pull secrets are read only by a pass that may pull.
    const credentials = runsContainers ? await pullCredentials(pod, sources) : [];
    const claims = runsContainers && hasClaims(pod) ? this.#o.claims?.resolve(pod) : undefined;
    return {
      pod,
      status,
      credentials,
      credentialsRead: runsContainers,
      sources,
      waiting,
      ...(claims?.ok ? { claims: claims.sources } : {}),
    };
  }

  async #carryOut(
    step: PodStep,
    ctx: StepContext,
    decision: PodDecision,
    active: () => V1Pod[],
  ): Promise<StepOutcome> {
    const o = this.#o;
    const { pod } = ctx;
    const uid = pod.metadata?.uid ?? '';
    switch (step.kind) {
      case 'admit':
        this.#admitted.add(uid);
        return { changed: true };
      case 'reject':
        await this.#reject(pod, step.reason, step.message);
        return { changed: false };
      case 'prepareVolumes': {
        // The pod's volumes exist before the sandbox that mounts them; their content goes in once
        // the sandbox runs (the 'containers' step). Claims are bound and free first.
        const notReady = await this.#claimsReady(ctx, active);
        if (notReady) return notReady;
        await this.#volumes?.ensureVolumes(pod, ctx.claims);
        return { changed: false };
      }
      case 'ensureSandbox': {
        const dns = podDns(pod, o.podConfig ?? {});
        if (dns.fallback)
          o.recorder.record(pod, {
            type: 'Warning',
            reason: dns.fallback.reason,
            message: dns.fallback.message,
          });
        const sandbox = await o.pods.ensureSandbox(
          podVmSpec({
            pod,
            nodeName: o.nodeName,
            env: new Map(),
            credentials: ctx.credentials,
            dns: dns.dns,
            ...(o.podConfig?.clusterDomain ? { clusterDomain: o.podConfig.clusterDomain } : {}),
            ...(ctx.claims ? { claims: ctx.claims } : {}),
          }),
        );
        ctx.freshSandbox = true;
        // Started in the same move, as the kubelet's RunPodSandbox creates and starts it: a read of
        // the pod VM between the two cost a pod's start-up 10 to 20 ms (issue 15's engine trace). A
        // sandbox left created by an earlier pass is started by the startSandbox step.
        if (sandbox.state === 'created') await o.pods.startContainer(sandbox.id);
        return { changed: true };
      }
      case 'startSandbox':
        await o.pods.startContainer(step.id);
        return { changed: true };
      case 'containers': {
        const outcome: StepOutcome = { changed: false };
        const volumes = await this.#populateVolumes(ctx);
        if (volumes) {
          outcome.retryAfterMs = volumes.ok ? volumes.resyncAfterMs : volumes.retryAfterMs;
          // Content missing (a FailedMount event said why): no container starts without it.
          if (!volumes.ok && !ctx.status?.containers.length && !ctx.status?.initContainers.length) {
            return outcome;
          }
        }
        for (const plan of step.plan) {
          const one = await this.#steps.act(ctx, plan);
          outcome.changed ||= one.changed;
          if (one.failed) outcome.failed = true;
          if (one.retryAfterMs !== undefined) {
            outcome.retryAfterMs = Math.min(outcome.retryAfterMs ?? Infinity, one.retryAfterMs);
          }
        }
        return outcome;
      }
      case 'failPod':
        o.recorder.record(pod, { type: 'Warning', reason: step.reason, message: step.message });
        if (decision.plan) {
          await this.#writeStatus(pod, ctx.status, decision.plan, ctx.waiting, decision, {
            override: { phase: 'Failed', reason: step.reason, message: step.message },
          });
          ctx.statusWritten = true;
        }
        // The next pass finds the pod Failed and stops what still runs, within its grace period.
        return { changed: false, retryAfterMs: 0 };
      case 'stopLeftovers':
        await this.#termination.stopPod(
          pod,
          ctx.status,
          pod.spec?.terminationGracePeriodSeconds ?? undefined,
        );
        await this.#refreshTerminalStatus(pod);
        return { changed: false };
      case 'terminate':
        await this.#termination.stopPod(pod, await o.pods.status(uid), step.graceSeconds);
        await o.pods.remove(uid);
        this.#forget(uid, ctx.status?.sandbox?.id);
        return { changed: false };
      case 'deletePodObject':
        // Volumes are made before the sandbox: a pod deleted in between leaves only them.
        if (this.#volumes) await o.pods.remove(uid);
        this.#forget(uid);
        await this.#deleteObject(pod);
        return { changed: false };
    }
  }

  /**
   * A pod's claims must be bound to volumes of this node, and its ReadWriteOnce ones free of other
   * pods, before its sandbox is made; until then it waits (ContainerCreating) with the kubelet's
   * FailedMount event, or the Multi-Attach one while another pod holds the volume.
   */
  async #claimsReady(ctx: StepContext, active: () => V1Pod[]): Promise<StepOutcome | undefined> {
    const { pod } = ctx;
    if (!hasClaims(pod)) return undefined;
    const wait: StepOutcome = { changed: false, failed: true, retryAfterMs: claimRetryMs };
    const claims = this.#o.claims;
    if (!claims) {
      const why = 'persistentVolumeClaim volumes need the node provisioner, which this node does not run';
      this.#o.recorder.record(pod, {
        type: 'Warning',
        reason: 'FailedMount',
        message: `Unable to attach or mount volumes: ${why}`,
      });
      return wait;
    }
    const resolved = claims.resolve(pod);
    if (!resolved.ok) {
      this.#o.recorder.record(pod, {
        type: 'Warning',
        reason: 'FailedMount',
        message: `Unable to attach or mount volumes: ${resolved.message}`,
      });
      return wait;
    }
    const held = await claims.reserve(pod, resolved.exclusive, active());
    if (!held.ok) {
      this.#o.recorder.record(pod, { type: 'Warning', reason: 'FailedAttachVolume', message: held.message });
      return wait;
    }
    ctx.claims = resolved.sources;
    return undefined;
  }

  /**
   * resizePolicy RestartContainer: the container stops (preStop, grace) and its next attempt starts
   * with the new resources; its restart count goes up, as with the kubelet.
   */
  async #restartForResize(pod: V1Pod, r: ContainerResize): Promise<void> {
    await this.#termination.killContainer(pod, r.name, r.id, undefined);
    const status = await this.#o.pods.status(pod.metadata?.uid ?? '');
    const ctx = await this.#context(pod, status, new Map(), true);
    const attempt = r.status.attempt + 1;
    const outcome = await this.#steps.act(ctx, {
      name: r.name,
      role: 'app',
      action: { kind: 'run', attempt, backoffFrom: attempt, resized: true },
    });
    if (outcome.failed)
      throw new VicError('Internal', `container ${r.name} did not restart after its resize`);
  }

  /** Writes (or refreshes) the content of the pod's volumes through its running sandbox. */
  #populateVolumes(ctx: StepContext) {
    if (!this.#volumes) return Promise.resolve(undefined);
    const o = this.#o;
    return this.#volumes.populate(ctx.pod, {
      sandboxId: ctx.status?.sandbox?.id ?? '',
      freshSandbox: ctx.freshSandbox === true,
      sources: ctx.sources,
      downward: downwardContext(o, ctx.pod, ctx.status),
      ...(ctx.claims ? { claims: ctx.claims } : {}),
    });
  }

  #forget(uid: string, sandboxId?: string): void {
    this.#volumes?.forget(uid, sandboxId);
    this.#o.claims?.release(uid);
    this.#prober?.forget(uid);
    this.#messages.forget(uid);
    this.#steps.forget(uid);
    this.#statuses.forget(uid);
    this.#configs?.release(uid);
    this.#admitted.delete(uid);
  }

  async #writeStatus(
    pod: V1Pod,
    vm: PodVmStatus | undefined,
    plan: PodPlan,
    waiting: ReadonlyMap<string, Waiting>,
    decision: PodDecision,
    extra: {
      override?: Pick<V1PodStatus, 'phase' | 'reason' | 'message'>;
      resize?: ResizeReport;
      /** The pass expects the pod to move on at once: a transitional status may be held. */
      mayHold?: boolean;
    } = {},
  ): Promise<void> {
    const o = this.#o;
    const { override, resize = {}, mayHold = false } = extra;
    await this.#messages.collect(pod, vm);
    const limits = o.layoutLimits?.();
    const vmSizing = limits?.vmSizing;
    const built = buildPodStatus({
      pod,
      vm,
      plan,
      waiting,
      health: this.#health,
      terminationMessage: this.#messages.message,
      hostIP: o.hostIP,
      now: new Date(o.clock.now()),
      ...(vmSizing ? { vmSizing } : {}),
    });
    const sized = withResize(built, pod, {
      vm,
      report: resize,
      now: new Date(o.clock.now()),
      inPlace: limits?.inPlaceResize ?? true,
    });
    const status = override ? { ...sized, ...override } : sized;
    const body = withClearedFields(status);
    // A resize condition that no longer holds goes (conditions merge by type).
    const stale = staleResizeConditions(pod, status).map((type) => ({ type, $patch: 'delete' }));
    if (stale.length) body.conditions = [...((body.conditions as object[] | undefined) ?? []), ...stale];
    if (await this.#statuses.write({ pod, status, body, mayHold }))
      this.#log.debug({ pod: pod.metadata?.name, from: decision.from, to: decision.to }, 'pod state');
  }

  /** A finished pod whose containers were just stopped: its container statuses say so. */
  async #refreshTerminalStatus(pod: V1Pod): Promise<void> {
    const o = this.#o;
    const vm = await o.pods.status(pod.metadata?.uid ?? '');
    const plan = decide({
      pod: { ...pod, status: { ...pod.status, phase: 'Running' } },
      vm: undefined,
      status: vm,
      admitted: true,
      admission: () => ({ admitted: true }),
      health: noHealth,
      nowMs: o.clock.now(),
    }).plan;
    if (!plan) return;
    await this.#messages.collect(pod, vm);
    const built = buildPodStatus({
      terminationMessage: this.#messages.message,
      pod,
      vm,
      plan,
      waiting: new Map(),
      health: noHealth,
      hostIP: o.hostIP,
      now: new Date(o.clock.now()),
    });
    const kept = { phase: pod.status?.phase, reason: pod.status?.reason, message: pod.status?.message };
    const status = { ...built, ...kept };
    await this.#statuses.write({ pod, status, body: withClearedFields(status) });
  }

  /** A pod that cannot run here fails at once, with the reason and an event, and nothing created. */
  async #reject(pod: V1Pod, reason: string, message: string): Promise<void> {
    const o = this.#o;
    o.recorder.record(pod, { type: 'Warning', reason, message });
    this.#log.info(
      { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason },
      'pod rejected at admission',
    );
    await this.#statuses.patchNow(pod, {
      phase: 'Failed',
      reason,
      message,
      startTime: new Date(o.clock.now()),
      // As a 1.34+ kubelet: the generation the rejection was decided on.
      ...(pod.metadata?.generation !== undefined ? { observedGeneration: pod.metadata.generation } : {}),
    });
  }

  /** The pod VM is gone: the pod object goes too, unless it was replaced by a pod with another UID. */
  async #deleteObject(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    try {
      await callApi(`delete pod ${namespace}/${name}`, () =>
        this.#o.core.deleteNamespacedPod({
          name,
          namespace,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid } },
        }),
      );
      this.#log.info({ pod: `${namespace}/${name}` }, 'pod deleted');
    } catch (err) {
      // Gone already, or replaced by a pod with another UID: nothing of ours to delete.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
