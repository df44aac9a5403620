// A pod VM's state written as a kubelet writes PodStatus: phase, conditions, container statuses,
// IPs, start time and QoS class. Pure: the controller hands in what the VCH said and what it decided.
import type {
  V1Container,
  V1ContainerState,
  V1ContainerStatus,
  V1Pod,
  V1PodCondition,
  V1PodStatus,
} from '@kubernetes/client-node';
import type { ContainerState, ContainerStatus, PodVmStatus } from '../../vch/types.js';
import type { VmSizing } from '../../vch/index.js';
import { containerRequests } from './admission.js';
import { formatBytes, formatMilliCpu } from '../resources/quantity.js';
import { kubeContainerId, kubeImageId } from './container-ids.js';
import { podLabel } from './pod-names.js';
import { noHealth, type ContainerPlan, type HealthOf, type PodPlan } from './state/container-plan.js';

export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInputs {
  pod: V1Pod;
  vm: PodVmStatus | undefined;
  plan: PodPlan;
  /** Waiting reasons the VCH cannot show, by container name: image pull failures. */
  waiting: ReadonlyMap<string, Waiting>;
  /** Probe results by container ID: readiness and startup decide `ready` and `started`. */
  health?: HealthOf;
  /** The termination message a terminated container left, by container ID. */
  terminationMessage?: (id: string) => string | undefined;
  hostIP: string;
  now: Date;
  /** Where each container is a VM of its own: how the VCH sizes it, reported as the container's resources. */
  vmSizing?: VmSizing;
}

export function toKubeState(state: ContainerState, containerID?: string): V1ContainerState {
  switch (state.kind) {
    case 'waiting':
      return { waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) } };
    case 'running':
      return { running: { startedAt: state.startedAt } };
    case 'terminated':
      return {
        terminated: {
          exitCode: state.exitCode,
          reason: state.reason,
          ...(state.message ? { message: state.message } : {}),
          ...(state.startedAt ? { startedAt: state.startedAt } : {}),
          ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}),
          ...(containerID ? { containerID } : {}),
        },
      };
  }
}

/** What the container's VM got, as a kubelet reports a container's configured resources. */
function vmResources(spec: V1Container, sizing: VmSizing): V1ContainerStatus['resources'] {
  const vm = containerRequests(spec, sizing);
  const list = { cpu: formatMilliCpu(vm.milliCpu), memory: formatBytes(vm.memoryBytes) };
  return { requests: { ...list }, limits: { ...list } };
}

function containerStatus(
  spec: V1Container,
  status: ContainerStatus | undefined,
  plan: ContainerPlan | undefined,
  inputs: StatusInputs,
  notYet: string,
): V1ContainerStatus {
  const action = plan?.action;
  const base: V1ContainerStatus = {
    name: spec.name,
    image: spec.image ?? '',
    imageID: status ? kubeImageId(status) : '',
    ready: false,
    restartCount: status?.restartCount ?? 0,
    started: false,
    state: { waiting: { reason: notYet } },
  };
  const containerID = status ? kubeContainerId(status.id) : undefined;
  if (containerID) base.containerID = containerID;
  // What the runtime reports of the container it made (kubelet_pods.go convertContainerStatus).
  if (status?.stopSignal) base.stopSignal = status.stopSignal;
  if (status?.user) base.user = { linux: { ...status.user } };
  if (status && inputs.vmSizing) base.resources = vmResources(spec, inputs.vmSizing);
  // The kubelet's termination message replaces what the runtime said of the exit; the previous
  // attempt keeps its own (kuberuntime_container.go, getTerminationMessage per container).
  const withMessage = (state: V1ContainerState, id = status?.id): V1ContainerState => {
    const message = id ? inputs.terminationMessage?.(id) : undefined;
    return state.terminated && message ? { terminated: { ...state.terminated, message } } : state;
  };
  if (status?.lastState) {
    const lastId = status.lastStateId;
    base.lastState = withMessage(
      toKubeState(status.lastState, lastId ? kubeContainerId(lastId) : undefined),
      lastId,
    );
  }

  const pending = inputs.waiting.get(spec.name);
  if (action?.kind === 'backoff' && status) {
    // The last run ended and the back-off holds the restart: CrashLoopBackOff, with that run as lastState.
    const seconds = Math.round(action.delayMs / 1000);
    base.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${seconds}s restarting failed container=${spec.name} pod=${podLabel(inputs.pod)}`,
      },
    };
    base.lastState = withMessage(toKubeState(status.state, containerID));
    return base;
  }
  if (pending && (!status || action?.kind === 'run')) {
    base.state = {
      waiting: { reason: pending.reason, ...(pending.message ? { message: pending.message } : {}) },
    };
    if (status && status.state.kind === 'terminated') {
      base.lastState = withMessage(toKubeState(status.state, containerID));
    }
    return base;
  }
  if (!status) return base;
  base.state = withMessage(toKubeState(status.state, containerID));
  const health = (inputs.health ?? noHealth)(status.id);
  const running = status.state.kind === 'running';
  // pkg/kubelet/prober/prober_manager.go UpdatePodStatus: started once the startup probe passed (or
  // there is none); ready once started and the readiness probe passed (or there is none).
  base.started = running && health?.started !== false;
  base.ready = base.started && (spec.readinessProbe ? health?.ready === true : true);
  // A 1.34+ kubelet reports a regular init container that completed as ready.
  if (plan?.role === 'init' && status.state.kind === 'terminated' && status.state.exitCode === 0)
    base.ready = true;
  return base;
}

/** The kubelet's getPhase, over the statuses this module wrote. */
export function podPhase(
  restartPolicy: string,
  init: V1ContainerStatus[],
  apps: V1ContainerStatus[],
  initFailed: boolean,
  sidecars: ReadonlySet<string> = new Set(),
): V1PodStatus['phase'] {
  if (initFailed) return 'Failed';
  // A sidecar counts as initialized once it has started; a regular init container once it completed.
  const initPending = init.some((s) =>
    sidecars.has(s.name)
      ? !s.started && !s.state?.terminated && !s.lastState?.terminated
      : !s.state?.terminated || s.state.terminated.exitCode !== 0,
  );
  if (initPending) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  // A sidecar still running keeps the pod Running, even once its app containers have ended: the pod
  // is Succeeded or Failed only after the sidecars were stopped (pkg/kubelet/kubelet_pods.go getPhase
  // counts running restartable init containers; stopped ones do not count).
  for (const s of init) if (sidecars.has(s.name) && s.state?.running) running += 1;
  for (const s of apps) {
    if (s.state?.running) running += 1;
    else if (s.state?.terminated) {
      stopped += 1;
      if (s.state.terminated.exitCode === 0) succeeded += 1;
    } else if (s.state?.waiting && s.lastState?.terminated) stopped += 1;
    else waiting += 1;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export function qosClass(pod: V1Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const any = all.some(
    (c) =>
      Object.keys(c.resources?.requests ?? {}).length + Object.keys(c.resources?.limits ?? {}).length > 0,
  );
  if (!any) return 'BestEffort';
  const guaranteed = all.every((c) =>
    (['cpu', 'memory'] as const).every((r) => {
      const limit = c.resources?.limits?.[r];
      const request = c.resources?.requests?.[r] ?? limit;
      return limit !== undefined && request === limit;
    }),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function condition(
  type: string,
  ok: boolean,
  previous: V1PodCondition[] | undefined,
  now: Date,
  reason?: string,
  message?: string,
): V1PodCondition {
  const status = ok ? 'True' : 'False';
  const before = previous?.find((c) => c.type === type);
  const c: V1PodCondition = {
    type,
    status,
    lastTransitionTime: before && before.status === status ? (before.lastTransitionTime ?? now) : now,
    lastProbeTime: null as unknown as undefined,
  };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

export function buildPodStatus(inputs: StatusInputs): V1PodStatus {
  const { pod, vm, plan, now } = inputs;
  const previous = pod.status?.conditions;
  const planOf = (name: string) => plan.containers.find((c) => c.name === name);
  const initStatuses = (pod.spec?.initContainers ?? []).map((c) =>
    containerStatus(
      c,
      vm?.initContainers.find((s) => s.name === c.name),
      planOf(c.name),
      inputs,
      'PodInitializing',
    ),
  );
  const appStatuses = (pod.spec?.containers ?? []).map((c) =>
    containerStatus(
      c,
      vm?.containers.find((s) => s.name === c.name),
      planOf(c.name),
      inputs,
      plan.initialized ? 'ContainerCreating' : 'PodInitializing',
    ),
  );
  const sidecars = new Set(plan.containers.filter((c) => c.role === 'sidecar').map((c) => c.name));
  const phase = podPhase(
    pod.spec?.restartPolicy ?? 'Always',
    initStatuses,
    appStatuses,
    plan.initFailed,
    sidecars,
  );
  const completed = phase === 'Succeeded' || phase === 'Failed';

  const incompleteInit = plan.initialized
    ? []
    : initStatuses
        .filter((s) => (sidecars.has(s.name) ? !s.started : s.state?.terminated?.exitCode !== 0))
        .map((s) => s.name);
  // Sidecars count for readiness beside the app containers (pkg/kubelet/status/generate.go).
  const unready = [...initStatuses.filter((s) => sidecars.has(s.name)), ...appStatuses]
    .filter((s) => !s.ready)
    .map((s) => s.name);
  const readyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const readyMessage = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const sandboxUp = vm?.sandbox?.state.kind === 'running';
  const scheduled = previous?.find((c) => c.type === 'PodScheduled');

  const conditions: V1PodCondition[] = [
    condition('PodReadyToStartContainers', sandboxUp && !completed, previous, now),
    condition(
      'Initialized',
      incompleteInit.length === 0,
      previous,
      now,
      'ContainersNotInitialized',
      `containers with incomplete status: [${incompleteInit.join(' ')}]`,
    ),
    condition('Ready', unready.length === 0 && !completed, previous, now, readyReason, readyMessage),
    condition(
      'ContainersReady',
      unready.length === 0 && !completed,
      previous,
      now,
      readyReason,
      readyMessage,
    ),
    scheduled ?? condition('PodScheduled', true, previous, now),
  ];

  const status: V1PodStatus = {
    phase,
    conditions,
    hostIP: inputs.hostIP,
    hostIPs: [{ ip: inputs.hostIP }],
    startTime: pod.status?.startTime ?? now,
    qosClass: qosClass(pod),
    containerStatuses: appStatuses,
  };
  if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
  // Debug containers (kubectl debug): reported like any container, never ready (no probes).
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => ({
    ...containerStatus(
      c,
      vm?.ephemeralContainers?.find((s) => s.name === c.name),
      planOf(c.name),
      inputs,
      'ContainerCreating',
    ),
    ready: false,
  }));
  if (ephemeral.length) status.ephemeralContainerStatuses = ephemeral;
  // As a 1.34+ kubelet: the pod generation this status was made from, on the status and on each
  // condition the kubelet owns (PodScheduled is the scheduler's).
  const generation = pod.metadata?.generation;
  if (generation !== undefined) {
    status.observedGeneration = generation;
    status.conditions = conditions.map((c) =>
      c === scheduled ? c : { ...c, observedGeneration: generation },
    );
  }
  if (vm?.podIP) {
    status.podIP = vm.podIP;
    status.podIPs = [{ ip: vm.podIP }];
  }
  return status;
}
