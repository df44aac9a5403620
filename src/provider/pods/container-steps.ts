// Carries out one container's next action as the pod state decided it: pull, create and start a new
// attempt; start one a crash left created; announce a crash back-off; or kill a container that failed
// a probe (or a sidecar after its app), with the kubelet's events for each.
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { messageOf, VicError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { LayoutLimits, PodVmLifecycle, VchImages } from '../../vch/index.js';
import type { EnvVar, PodVmSpec, PodVmStatus, RegistryCredential } from '../../vch/types.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import type { NodeAllocatable } from './admission.js';
import { apiServiceSources, type apiConfigSources } from './config-sources.js';
import { downwardContext, type PodConfig } from './pod-config.js';
import { containerEnv } from './env.js';
import { effectivePolicy, ImagePulls } from './image-pulls.js';
import type { Waiting } from './pod-status.js';
import { podVmSpec } from './pod-vm-spec.js';
import { keepAllocatedResources } from './resize/allocated.js';
import { runAsNonRootViolation } from './security-context.js';
import type { ServiceSources } from './service-env.js';
import type { ContainerPlan } from './state/container-plan.js';
import type { ClaimSources } from './volumes/plan.js';
import { containerOf, fieldPathOf, isEphemeral, podLabel } from './pod-names.js';
import { ephemeralRefusal } from './ephemeral.js';
import type { Clock } from '../../shared/clock.js';

export interface ContainerStepsOptions {
  core: CoreV1Api;
  pods: PodVmLifecycle;
  images: VchImages;
  nodeName: string;
  hostIP: string;
  allocatable: () => NodeAllocatable;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** Stops one container within its grace period, its preStop hook first. */
  kill: (pod: V1Pod, name: string, id: string, graceSeconds: number | undefined) => Promise<void>;
  /** Runs a container's postStart hook; returns the failure message, if it failed. */
  postStart?: (
    pod: V1Pod,
    container: V1Container,
    at: { containerId: string; podIP: string | undefined },
  ) => Promise<string | undefined>;
  /** The API server and cluster DNS as pods see them. */
  podConfig?: PodConfig;
  /** What the VCH's pod layout can give a pod (an ephemeral container needs shared namespaces). */
  layoutLimits?: () => LayoutLimits | undefined;
  /** Services for the link variables, from a watch (service-cache.ts); else listed per container. */
  services?: ServiceSources;
}

/** The pod-wide context a container step needs, read once per pass. */
export interface StepContext {
  pod: V1Pod;
  status: PodVmStatus | undefined;
  credentials: RegistryCredential[];
  credentialsRead: boolean;
  /** The pass created the sandbox: its volumes hold nothing yet. */
  freshSandbox?: boolean;
  /** The pass wrote the pod's status itself (a failed pod): no second write. */
  statusWritten?: boolean;
  sources: ReturnType<typeof apiConfigSources>;
  /** Waiting reasons the VCH cannot show (pull failures, config errors), by container name. */
  waiting: Map<string, Waiting>;
  /** The store volumes behind the pod's claims, when resolved (issue 16). */
  claims?: ClaimSources;
}

/** What one step did: whether it changed the pod VM, and when to look again. */
export interface StepOutcome {
  changed: boolean;
  failed?: boolean;
  retryAfterMs?: number;
}

const configRetryMs = 10_000;

export class ContainerSteps {
  readonly #o: ContainerStepsOptions;
  readonly #pulls: ImagePulls;
  readonly #log: Logger;

  constructor(options: ContainerStepsOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'pods' });
    this.#pulls = new ImagePulls({
      images: options.images,
      recorder: options.recorder,
      clock: options.clock,
    });
  }

  /** Forgets the in-memory pull back-offs of a pod that is gone. */
  forget(uid: string): void {
    this.#pulls.forget(uid);
  }

  async act(ctx: StepContext, step: ContainerPlan): Promise<StepOutcome> {
    const o = this.#o;
    const { pod } = ctx;
    const action = step.action;
    const fieldPath = fieldPathOf(pod, step.name);
    switch (action.kind) {
      case 'none':
        return { changed: false };
      case 'start':
        await o.pods.startContainer(action.id);
        o.recorder.record(pod, {
          type: 'Normal',
          reason: 'Started',
          message: `Started container ${step.name}`,
          fieldPath,
        });
        return { changed: true };
      case 'backoff':
        o.recorder.record(pod, {
          type: 'Warning',
          reason: 'BackOff',
          message: `Back-off restarting failed container ${step.name} in pod ${podLabel(pod)}`,
          fieldPath,
        });
        return { changed: false, retryAfterMs: action.untilMs - o.clock.now() };
      case 'kill': {
        // pkg/kubelet/kuberuntime/kuberuntime_manager.go: the message of a probe-driven restart.
        const why =
          action.reason === 'podCompleted'
            ? `Stopping container ${step.name}`
            : `Container ${step.name} failed ${action.reason} probe, will be restarted`;
        o.recorder.record(pod, { type: 'Normal', reason: 'Killing', message: why, fieldPath });
        await o.kill(pod, step.name, action.id, action.graceSeconds);
        return { changed: true };
      }
      case 'run':
        return this.#run(ctx, step.name, action);
    }
  }

  /**
   * The kubelet bind-mounts a fresh host file at terminationMessagePath so the message outlives the
   * container (kuberuntime_container.go, generateContainerConfig); here the file lives in the sandbox.
   */
  async #mountTerminationLog(
    ctx: StepContext,
    spec: PodVmSpec,
    container: V1Container,
    attempt: number,
  ): Promise<void> {
    const path = container.terminationMessagePath;
    const sandboxId = ctx.status?.sandbox?.id;
    if (!path || !sandboxId) return;
    const source = await this.#o.pods.sandboxFile(sandboxId, `${container.name}-${attempt}`);
    if (!source) return;
    const target = [...(spec.initContainers ?? []), ...spec.containers].find(
      (c) => c.name === container.name,
    );
    if (target) target.terminationMessageFile = { source, containerPath: path };
  }

  async #run(
    ctx: StepContext,
    name: string,
    run: { attempt: number; backoffFrom: number; resized?: boolean },
  ): Promise<StepOutcome> {
    const at = { attempt: run.attempt, backoffFrom: run.backoffFrom };
    const o = this.#o;
    const { pod, waiting } = ctx;
    const fieldPath = fieldPathOf(pod, name);
    const container = containerOf(pod, name);
    if (!container) return { changed: false };
    const refusal = isEphemeral(pod, name) ? ephemeralRefusal(o.layoutLimits?.()) : undefined;
    if (refusal) {
      waiting.set(name, { reason: 'CreateContainerError', message: refusal });
      o.recorder.record(pod, { type: 'Warning', reason: 'Failed', message: `Error: ${refusal}`, fieldPath });
      return { changed: false };
    }
    const image = container.image ?? '';
    const pulled = await this.#pulls.ensure(
      pod,
      { name, image, policy: effectivePolicy(image, container.imagePullPolicy), fieldPath },
      ctx.credentials,
    );
    if (!pulled.ok) {
      waiting.set(name, pulled.waiting);
      return {
        changed: false,
        failed: true,
        ...(pulled.retryAfterMs !== undefined ? { retryAfterMs: pulled.retryAfterMs } : {}),
      };
    }
    let env: EnvVar[];
    try {
      env = await containerEnv(container, {
        ...downwardContext(o, pod, ctx.status),
        sources: ctx.sources,
        services: o.services ?? apiServiceSources(o.core, o.podConfig?.kubernetesServiceAddress),
      });
      // runAsNonRoot is checked against the image's user, as the kubelet does before a create.
      const nonRoot = runAsNonRootViolation(pod, container, (await o.images.inspect(image))?.user ?? '');
      if (nonRoot) throw new VicError('Invalid', nonRoot);
    } catch (err) {
      const message = messageOf(err);
      waiting.set(name, { reason: 'CreateContainerConfigError', message });
      o.recorder.record(pod, { type: 'Warning', reason: 'Failed', message: `Error: ${message}`, fieldPath });
      return { changed: false, failed: true, retryAfterMs: configRetryMs };
    }
    // The image is present now: the create must not pull it a second time.
    const spec = podVmSpec({
      pod,
      nodeName: o.nodeName,
      env: new Map([[name, env]]),
      credentials: ctx.credentials,
      ...(o.podConfig?.clusterDomain ? { clusterDomain: o.podConfig.clusterDomain } : {}),
      ...(ctx.claims ? { claims: ctx.claims } : {}),
    });
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) c.imagePullPolicy = 'IfNotPresent';
    if (!run.resized) keepAllocatedResources(spec, name, ctx.status);
    let id: string;
    try {
      await this.#mountTerminationLog(ctx, spec, container, at.attempt);
      const member = await o.pods.createContainer(spec, name, at);
      o.recorder.record(pod, {
        type: 'Normal',
        reason: 'Created',
        message: `Created container: ${name}`,
        fieldPath,
      });
      await o.pods.startContainer(member.id);
      o.recorder.record(pod, {
        type: 'Normal',
        reason: 'Started',
        message: `Started container ${name}`,
        fieldPath,
      });
      id = member.id;
    } catch (err) {
      const message = messageOf(err);
      this.#log.warn({ pod: pod.metadata?.name, container: name, err: message }, 'container did not start');
      o.recorder.record(pod, { type: 'Warning', reason: 'Failed', message: `Error: ${message}`, fieldPath });
      waiting.set(name, { reason: 'CreateContainerError', message });
      return { changed: true, failed: true, retryAfterMs: configRetryMs };
    }
    const hookFailure = await o.postStart?.(pod, container, { containerId: id, podIP: ctx.status?.podIP });
    if (hookFailure !== undefined) {
      // pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer: a failed postStart hook
      // kills the container; the restart policy then decides.
      o.recorder.record(pod, {
        type: 'Warning',
        reason: 'FailedPostStartHook',
        message: hookFailure,
        fieldPath,
      });
      o.recorder.record(pod, {
        type: 'Normal',
        reason: 'Killing',
        message: `FailedPostStartHook`,
        fieldPath,
      });
      await o.kill(pod, name, id, undefined);
    }
    return { changed: true };
  }
}
