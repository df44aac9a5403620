// One pass of the pod controller over one pod: compare the pod (desired) with its pod VM on the VCH
// (actual) and act on the difference. Safe to run twice, and safe after a crash at any point: every
// decision is re-derived from the VCH, and every VCH call is idempotent.
import type { CoreV1Api, V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Clock } from '../../shared/clock.js';
import { isConflict, isNotFound, messageOf, VicError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { LayoutLimits, PodVmLifecycle, VchImages } from '../../vch/index.js';
import type { EnvVar, PodVm, PodVmStatus } from '../../vch/types.js';
import { callApi } from '../kube/api-errors.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import { strategicMergePatch } from '../kube/patch.js';
import { admit, type NodeAllocatable } from './admission.js';
import { apiConfigSources } from './config-sources.js';
import { containerEnv } from './env.js';
import { effectivePolicy, ImagePulls } from './image-pulls.js';
import { buildPodStatus, type Waiting } from './pod-status.js';
import { statusChanged } from './status-diff.js';
import { podVmSpec } from './pod-vm-spec.js';
import { pullCredentials } from './pull-secrets.js';
import { runAsNonRootViolation } from './security-context.js';
import { ephemeralUnsupportedMessage } from './ephemeral.js';
import { planPod, type ContainerPlan } from './sync-plan.js';

export interface PodSyncOptions {
  core: CoreV1Api;
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
}

/** What a pass asks of the queue: run again after this long (back-off, pull retry), or not. */
export interface SyncResult {
  requeueAfterMs?: number;
}

const defaultGraceSeconds = 30;

export function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function fieldPathOf(pod: V1Pod, name: string): string {
  const init = pod.spec?.initContainers?.some((c) => c.name === name);
  return `spec.${init ? 'initContainers' : 'containers'}{${name}}`;
}

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
  readonly #pulls: ImagePulls;
  readonly #admitted = new Set<string>();
  readonly #log: Logger;

  constructor(options: PodSyncOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'pods' });
    this.#pulls = new ImagePulls({
      images: options.images,
      recorder: options.recorder,
      clock: options.clock,
    });
  }

  /**
   * Reconciles one pod key. `pod` is the informer's copy (undefined when the pod is gone), `vms`
   * every pod VM on the VCH with this namespace and name, `active` the node's other pods.
   */
  async sync(key: string, pod: V1Pod | undefined, vms: PodVm[], active: () => V1Pod[]): Promise<SyncResult> {
    const uid = pod?.metadata?.uid;
    // A pod VM whose pod is gone, or was replaced by a new pod of the same name, goes.
    for (const stale of vms.filter((vm) => vm.pod.uid !== uid)) {
      this.#log.info({ pod: key, uid: stale.pod.uid }, 'removing pod VM of a pod that no longer exists');
      await this.#o.pods.stop(stale.pod.uid);
      await this.#o.pods.remove(stale.pod.uid);
      this.#pulls.forget(stale.pod.uid);
      this.#admitted.delete(stale.pod.uid);
    }
    if (!pod || !uid) return {};
    const vm = vms.find((v) => v.pod.uid === uid);
    if (pod.metadata?.deletionTimestamp) {
      await this.#terminate(pod, vm);
      return {};
    }
    if (isTerminal(pod)) return {};
    if (vm || pod.status?.startTime) this.#admitted.add(uid);
    if (!this.#admitted.has(uid)) {
      const others = active().filter(
        (p) => p.metadata?.uid !== uid && this.#admitted.has(p.metadata?.uid ?? ''),
      );
      const decision = admit(pod, others, this.#o.allocatable(), this.#o.layoutLimits?.(), {
        ...(this.#o.allowedUnsafeSysctls ? { allowedUnsafeSysctls: this.#o.allowedUnsafeSysctls } : {}),
      });
      if (!decision.admitted) {
        await this.#reject(pod, decision.reason, decision.message);
        return {};
      }
      this.#admitted.add(uid);
    }
    return this.#run(pod, vm);
  }

  /** Pods this node has admitted: their requests count against Allocatable. */
  isAdmitted(uid: string): boolean {
    return this.#admitted.has(uid);
  }

  async #run(pod: V1Pod, vm: PodVm | undefined): Promise<SyncResult> {
    const o = this.#o;
    const uid = pod.metadata?.uid ?? '';
    const sources = apiConfigSources(o.core);
    const credentials = await pullCredentials(pod, sources);
    const baseSpec = podVmSpec({ pod, nodeName: o.nodeName, env: new Map(), credentials });
    if (!vm?.sandbox) {
      await o.pods.ensureSandbox(baseSpec);
    }
    let status = await o.pods.status(uid);
    if (status?.sandbox && status.sandbox.state.kind !== 'running') {
      await o.pods.startContainer(status.sandbox.containerID.replace(/^docker:\/\//, ''));
      status = await o.pods.status(uid);
    }
    const plan = planPod(pod, status, o.clock.now());
    const waiting = new Map<string, Waiting>();
    const retries: number[] = [];
    for (const step of plan.containers) {
      const retry = await this.#act(pod, step, status, credentials, sources, waiting);
      if (retry !== undefined) retries.push(retry);
    }
    for (const c of pod.spec?.ephemeralContainers ?? []) {
      const fieldPath = `spec.ephemeralContainers{${c.name}}`;
      o.recorder.record(pod, 'Warning', 'Failed', `Error: ${ephemeralUnsupportedMessage}`, fieldPath);
    }
    const after = await o.pods.status(uid);
    await this.#writeStatus(pod, after, planPod(pod, after, o.clock.now()), waiting);
    return retries.length ? { requeueAfterMs: Math.max(0, Math.min(...retries)) } : {};
  }

  /** Carries out one container's step; returns when to look again, if a timer must bring us back. */
  async #act(
    pod: V1Pod,
    step: ContainerPlan,
    status: PodVmStatus | undefined,
    credentials: Awaited<ReturnType<typeof pullCredentials>>,
    sources: ReturnType<typeof apiConfigSources>,
    waiting: Map<string, Waiting>,
  ): Promise<number | undefined> {
    const o = this.#o;
    const action = step.action;
    const fieldPath = fieldPathOf(pod, step.name);
    if (action.kind === 'none') return undefined;
    if (action.kind === 'start') {
      await o.pods.startContainer(action.containerID.replace(/^docker:\/\//, ''));
      o.recorder.record(pod, 'Normal', 'Started', `Started container ${step.name}`, fieldPath);
      return undefined;
    }
    if (action.kind === 'backoff') {
      o.recorder.record(
        pod,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${step.name} in pod ${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`,
        fieldPath,
      );
      return action.untilMs - o.clock.now();
    }
    const container = this.#container(pod, step.name);
    if (!container) return undefined;
    const image = container.image ?? '';
    const pulled = await this.#pulls.ensure(
      pod,
      { name: step.name, image, policy: effectivePolicy(image, container.imagePullPolicy), fieldPath },
      credentials,
    );
    if (!pulled.ok) {
      waiting.set(step.name, pulled.waiting);
      return pulled.retryAfterMs;
    }
    let env: EnvVar[];
    try {
      env = await containerEnv(container, {
        pod,
        hostIP: o.hostIP,
        nodeAllocatable: o.allocatable(),
        sources,
        ...(status?.podIP ? { podIP: status.podIP } : {}),
      });
      const nonRoot = runAsNonRootViolation(pod, container, (await o.images.inspect(image))?.user ?? '');
      if (nonRoot) throw new VicError('Invalid', nonRoot);
    } catch (err) {
      const message = messageOf(err);
      waiting.set(step.name, { reason: 'CreateContainerConfigError', message });
      o.recorder.record(pod, 'Warning', 'Failed', `Error: ${message}`, fieldPath);
      return 10_000;
    }
    // The image is present now: the create must not pull it a second time.
    const spec = podVmSpec({ pod, nodeName: o.nodeName, env: new Map([[step.name, env]]), credentials });
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) c.imagePullPolicy = 'IfNotPresent';
    try {
      const member = await o.pods.createContainer(spec, step.name, action.attempt);
      o.recorder.record(pod, 'Normal', 'Created', `Created container: ${step.name}`, fieldPath);
      await o.pods.startContainer(member.id);
      o.recorder.record(pod, 'Normal', 'Started', `Started container ${step.name}`, fieldPath);
    } catch (err) {
      const message = messageOf(err);
      this.#log.warn(
        { pod: pod.metadata?.name, container: step.name, err: message },
        'container did not start',
      );
      o.recorder.record(pod, 'Warning', 'Failed', `Error: ${message}`, fieldPath);
      waiting.set(step.name, { reason: 'CreateContainerError', message });
      return 10_000;
    }
    return undefined;
  }

  #container(pod: V1Pod, name: string): V1Container | undefined {
    return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
      (c) => c.name === name,
    );
  }

  async #writeStatus(
    pod: V1Pod,
    vm: PodVmStatus | undefined,
    plan: ReturnType<typeof planPod>,
    waiting: Map<string, Waiting>,
  ) {
    const o = this.#o;
    const status = buildPodStatus({ pod, vm, plan, waiting, hostIP: o.hostIP, now: new Date(o.clock.now()) });
    if (!statusChanged(pod.status, status)) return;
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    try {
      await callApi(`update status of pod ${namespace}/${name}`, () =>
        o.core.patchNamespacedPodStatus(
          { name, namespace, body: { status: withClearedFields(status) } },
          strategicMergePatch,
        ),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** A pod that cannot run here fails at once, with the reason and an event, and nothing created. */
  async #reject(pod: V1Pod, reason: string, message: string): Promise<void> {
    const o = this.#o;
    o.recorder.record(pod, 'Warning', reason, message);
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    this.#log.info({ pod: `${namespace}/${name}`, reason }, 'pod rejected at admission');
    await callApi(`reject pod ${namespace}/${name}`, () =>
      o.core.patchNamespacedPodStatus(
        {
          name,
          namespace,
          body: {
            status: {
              phase: 'Failed',
              reason,
              message,
              startTime: new Date(o.clock.now()),
              // As a 1.34+ kubelet: the generation the rejection was decided on.
              ...(pod.metadata?.generation !== undefined
                ? { observedGeneration: pod.metadata.generation }
                : {}),
            },
          },
        },
        strategicMergePatch,
      ),
    ).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /** Graceful deletion: stop within the grace period, remove the pod VM, then the pod object. */
  async #terminate(pod: V1Pod, vm: PodVm | undefined): Promise<void> {
    const o = this.#o;
    const uid = pod.metadata?.uid ?? '';
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    if (vm) {
      const grace =
        pod.metadata?.deletionGracePeriodSeconds ??
        pod.spec?.terminationGracePeriodSeconds ??
        defaultGraceSeconds;
      for (const m of vm.members.filter((m) => m.state === 'running')) {
        o.recorder.record(pod, 'Normal', 'Killing', `Stopping container ${m.name}`, fieldPathOf(pod, m.name));
      }
      await o.pods.stop(uid, grace);
      await o.pods.remove(uid);
    }
    this.#pulls.forget(uid);
    this.#admitted.delete(uid);
    try {
      await callApi(`delete pod ${namespace}/${name}`, () =>
        o.core.deleteNamespacedPod({
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
