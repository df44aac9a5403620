// The pod's lifecycle as explicit states with declared moves, and the one function that decides each
// pass. A move goes from the state the API server's pod status recorded (the last pass's conclusion)
// to the state the VCH shows now; the pass's steps are what carries the pod along. Everything is
// derived afresh on each pass from the API server's pod and the VCH's labels (probe results alone
// live in memory, as the kubelet's prober keeps them). Deletion interrupts every state: a pod with a
// deletionTimestamp is terminating whatever it was doing. Krustlet's state graph and the kubelet's
// computePodActions (pkg/kubelet/kuberuntime/kuberuntime_manager.go), in one place.
import type { V1Pod } from '@kubernetes/client-node';
import type { PodVm, PodVmStatus } from '../../../vch/types.js';
import type { Admission } from '../admission.js';
import { planPod, type ContainerPlan, type HealthOf, type PodPlan } from './container-plan.js';

export type PodStateKind =
  /** Bound to this node, not yet admitted (resources, unsupported fields). */
  | 'admitting'
  /** Waiting for volumes and images: the sandbox that holds the pod's network and volumes. */
  | 'preparing'
  /** Init containers running in order; sidecars starting. */
  | 'initializing'
  /** App containers (and sidecars) run, restart and are probed. */
  | 'running'
  /** Deleted: hooks, stop within the grace period, remove the pod VM, release the pod object. */
  | 'terminating'
  /** Succeeded or Failed: nothing runs any more. */
  | 'terminated';

/** The moves a pass may make from each state; anything else is a bug, reported by isDeclared. */
export const podMoves = {
  // Admitted, or rejected (UnsupportedPodSpec, OutOfcpu ...).
  admitting: ['preparing', 'terminated'],
  // The sandbox comes up; or activeDeadlineSeconds runs out first.
  preparing: ['preparing', 'initializing', 'running', 'terminated'],
  // Init containers run; the sandbox may be lost; an init container failing under Never fails the pod.
  initializing: ['initializing', 'running', 'preparing', 'terminated'],
  // Containers run and restart; the sandbox may be lost (and with the pod VM gone, the init
  // containers run again); the app ends for good, or the deadline passes.
  running: ['running', 'preparing', 'initializing', 'terminated'],
  terminating: ['terminated'],
  terminated: ['terminated'],
} as const satisfies { readonly [K in PodStateKind]: readonly PodStateKind[] };

export type PodMove = {
  [K in PodStateKind]: { from: K; to: (typeof podMoves)[K][number] };
}[PodStateKind];

export type PodStep =
  | { kind: 'admit' }
  | { kind: 'reject'; reason: string; message: string }
  /** Volumes the pod's containers mount are made ready (the one place for the volumes step). */
  | { kind: 'prepareVolumes' }
  | { kind: 'ensureSandbox' }
  | { kind: 'startSandbox'; id: string }
  /** Each container's next action (run, start, back-off, kill), in spec order. */
  | { kind: 'containers'; plan: ContainerPlan[] }
  /** activeDeadlineSeconds ran out: the pod fails, and everything in it stops. */
  | { kind: 'failPod'; reason: string; message: string }
  /** Stops whatever still runs of a finished pod (no grace: it has ended already). */
  | { kind: 'stopLeftovers' }
  | { kind: 'terminate'; graceSeconds: number | undefined }
  | { kind: 'deletePodObject' };

export type PodDecision = PodMove & {
  steps: PodStep[];
  /** The container plan of a pod that runs containers: the status is written from it. */
  plan?: PodPlan;
  /** Come back after this long even if nothing changes (a deadline). */
  requeueAfterMs?: number;
};

export interface PodInputs {
  pod: V1Pod;
  /** The pod VM as its labels list it (cheap); undefined when there is none. */
  vm: PodVm | undefined;
  /** The inspected status; read only when `needsStatus` says the state runs containers. */
  status?: PodVmStatus | undefined;
  /** This node admitted the pod earlier (or the pod VM exists, or it has a startTime). */
  admitted: boolean;
  /** The admission verdict, asked only of a pod not admitted yet. */
  admission: () => Admission;
  health: HealthOf;
  nowMs: number;
}

export const deadlineReason = 'DeadlineExceeded';
export const deadlineMessage = 'Pod was active on the node longer than the specified deadline';

export function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function isActive(state: string): boolean {
  return state === 'running' || state === 'restarting' || state === 'paused';
}

/** The state the API server's pod records: where this pass starts from. */
export function podStateOf(inputs: Pick<PodInputs, 'pod' | 'admitted'>): PodStateKind {
  const { pod } = inputs;
  if (pod.metadata?.deletionTimestamp) return 'terminating';
  if (isTerminal(pod)) return 'terminated';
  if (!inputs.admitted) return 'admitting';
  const conditionTrue = (type: string) =>
    pod.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
  if (!conditionTrue('PodReadyToStartContainers')) return 'preparing';
  return conditionTrue('Initialized') ? 'running' : 'initializing';
}

/** Whether the pass must read the pod VM's inspected status before it can decide. */
export function needsStatus(kind: PodStateKind): boolean {
  return kind === 'preparing' || kind === 'initializing' || kind === 'running';
}

/**
 * Milliseconds left of activeDeadlineSeconds, counted from the pod's startTime (this pass writes it
 * when there is none yet); undefined without a deadline. Read from the spec on every pass, so a
 * deadline shortened on a running pod takes effect at once.
 */
export function deadlineLeftMs(pod: V1Pod, nowMs: number): number | undefined {
  const seconds = pod.spec?.activeDeadlineSeconds;
  if (seconds === undefined || seconds === null) return undefined;
  const start = pod.status?.startTime ? new Date(pod.status.startTime).getTime() : nowMs;
  return start + seconds * 1000 - nowMs;
}

/** The one decision of a pass: from the pod, its pod VM, the probes and the clock, the next move. */
export function decide(inputs: PodInputs): PodDecision {
  const { pod, vm } = inputs;
  const kind = podStateOf(inputs);
  switch (kind) {
    case 'terminating': {
      const graceSeconds =
        pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? undefined;
      const steps: PodStep[] = vm ? [{ kind: 'terminate', graceSeconds }] : [];
      return { from: 'terminating', to: 'terminated', steps: [...steps, { kind: 'deletePodObject' }] };
    }
    case 'terminated': {
      const running = vm?.members.some((m) => isActive(m.state)) ?? false;
      return { from: 'terminated', to: 'terminated', steps: running ? [{ kind: 'stopLeftovers' }] : [] };
    }
    case 'admitting': {
      const verdict = inputs.admission();
      if (verdict.admitted) return { from: 'admitting', to: 'preparing', steps: [{ kind: 'admit' }] };
      return {
        from: 'admitting',
        to: 'terminated',
        steps: [{ kind: 'reject', reason: verdict.reason, message: verdict.message }],
      };
    }
    default:
      return decideActive(inputs, kind);
  }
}

/** preparing, initializing or running: the pod VM is (being) built and its containers run. */
function decideActive(inputs: PodInputs, from: 'preparing' | 'initializing' | 'running'): PodDecision {
  const { pod, status, nowMs } = inputs;
  const plan = planPod(pod, status, nowMs, inputs.health);
  const sandbox = status?.sandbox;
  const left = deadlineLeftMs(pod, nowMs);
  if (left !== undefined && left <= 0) {
    const steps: PodStep[] = [{ kind: 'failPod', reason: deadlineReason, message: deadlineMessage }];
    return { from, to: 'terminated', steps, plan };
  }
  const requeue = left !== undefined ? { requeueAfterMs: left } : {};
  if (sandbox?.state.kind !== 'running') {
    // Waiting for volumes and images: the one place where the pod VM's volumes get ready, before
    // the sandbox and any container that mounts them.
    const steps: PodStep[] = [
      { kind: 'prepareVolumes' },
      sandbox ? { kind: 'startSandbox', id: sandbox.id } : { kind: 'ensureSandbox' },
    ];
    return { ...move(from, 'preparing'), steps, plan, ...requeue };
  }
  const steps: PodStep[] = [{ kind: 'containers', plan: plan.containers }];
  const to: PodStateKind =
    plan.initFailed || plan.completed ? 'terminated' : plan.initialized ? 'running' : 'initializing';
  return { ...move(from, to), steps, plan, ...requeue };
}

/** A move as data; whether the graph declares it is checked by isDeclared, not by the type. */
function move(from: PodStateKind, to: PodStateKind): PodMove {
  return { from, to } as PodMove;
}

/** Whether the graph declares this move; an undeclared one is a bug the controller logs loudly. */
export function isDeclared(m: { from: PodStateKind; to: PodStateKind }): boolean {
  const allowed: readonly PodStateKind[] = podMoves[m.from];
  return allowed.includes(m.to);
}
