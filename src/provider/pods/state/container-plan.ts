// What each container of a pod needs next, decided from the pod's spec, what the VCH says exists and
// what the probes said: run the next init container, start sidecars in order, (re)start app
// containers as the restart policy says, wait out the crash back-off, or kill a container that failed
// its liveness or startup probe. The kubelet's computePodActions
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go), as a pure function re-derived on every pass.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerStatus, PodVmStatus } from '../../../vch/types.js';
import { backoffDelayMs, backoffResetMs } from '../backoff-curve.js';

/** What the probes of one running container said; kept in memory, as the kubelet's prober does. */
export interface ContainerHealth {
  /** The readiness verdict; undefined when the container has no readiness probe. */
  ready?: boolean;
  /** False until a startup probe has passed; undefined without a startup probe. */
  started?: boolean;
  /** A liveness or startup probe failed failureThreshold times in a row: the container goes. */
  failed?: { probe: 'liveness' | 'startup'; message: string; graceSeconds?: number };
}

/** Probe results by Docker container ID: a restarted container starts with none. */
export type HealthOf = (containerId: string) => ContainerHealth | undefined;

export const noHealth: HealthOf = () => undefined;

export type KillReason = 'liveness' | 'startup' | 'podCompleted';

export type ContainerAction =
  | { kind: 'none' }
  /**
   * Pull, create and start a new container at this attempt. `resized`: a restart that carries out a
   * resize (resizePolicy RestartContainer) takes the spec's resources; any other restart keeps what
   * the previous attempt was allocated.
   */
  | { kind: 'run'; attempt: number; backoffFrom: number; resized?: boolean }
  /** A container was created but never started (a crash between the two). */
  | { kind: 'start'; id: string }
  /** Restart wanted, but the back-off has not run out. */
  | { kind: 'backoff'; untilMs: number; delayMs: number }
  /** Stop a running container: a failed probe, or a sidecar whose app containers have all ended. */
  | { kind: 'kill'; id: string; reason: KillReason; message?: string; graceSeconds?: number };

export type PlanRole = 'init' | 'sidecar' | 'app' | 'ephemeral';

export interface ContainerPlan {
  name: string;
  role: PlanRole;
  action: ContainerAction;
}

export interface PodPlan {
  containers: ContainerPlan[];
  /** An init container failed and the restart policy is Never: the pod has failed. */
  initFailed: boolean;
  /** All init containers have completed, and every sidecar has started. */
  initialized: boolean;
  /** Every app container has ended for good (restart policy Never or OnFailure): the pod is done. */
  completed: boolean;
}

type Policy = 'Always' | 'OnFailure' | 'Never';

export function shouldRestart(policy: Policy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** A native sidecar: an init container that keeps running beside the app (restartPolicy Always). */
export function isSidecar(container: V1Container): boolean {
  return container.restartPolicy === 'Always';
}

/**
 * The kubelet's crash back-off, keyed per container: the first restart is immediate, then 10 s
 * doubling to 5 min. `from` is the attempt that began the current series; a run of 10 min or more
 * begins a new one, so the reset holds for every later crash too.
 */
export function crashBackoff(status: ContainerStatus): { delayMs: number; backoffFrom: number } {
  const from = status.backoffFrom ?? 0;
  const state = status.state;
  const ranMs =
    state.kind === 'terminated' && state.startedAt && state.finishedAt
      ? state.finishedAt.getTime() - state.startedAt.getTime()
      : 0;
  if (ranMs >= backoffResetMs) return { delayMs: 0, backoffFrom: status.attempt };
  return { delayMs: backoffDelayMs(status.attempt - from), backoffFrom: from };
}

function decide(
  status: ContainerStatus | undefined,
  policy: Policy,
  nowMs: number,
  health: ContainerHealth | undefined,
): ContainerAction {
  if (!status) return { kind: 'run', attempt: 0, backoffFrom: 0 };
  const state = status.state;
  if (state.kind === 'running') {
    const failed = health?.failed;
    if (!failed) return { kind: 'none' };
    return {
      kind: 'kill',
      id: status.id,
      reason: failed.probe,
      message: failed.message,
      ...(failed.graceSeconds !== undefined ? { graceSeconds: failed.graceSeconds } : {}),
    };
  }
  if (state.kind === 'waiting') return { kind: 'start', id: status.id };
  if (!shouldRestart(policy, state.exitCode)) return { kind: 'none' };
  const { delayMs, backoffFrom } = crashBackoff(status);
  const untilMs = (state.finishedAt?.getTime() ?? nowMs) + delayMs;
  if (untilMs > nowMs) return { kind: 'backoff', untilMs, delayMs };
  return { kind: 'run', attempt: status.attempt + 1, backoffFrom };
}

/** Started as the kubelet counts it: running, and past its startup probe if it has one. */
export function hasStarted(status: ContainerStatus | undefined, health: HealthOf): boolean {
  return status?.state.kind === 'running' && health(status.id)?.started !== false;
}

export function planPod(pod: V1Pod, vm: PodVmStatus | undefined, nowMs: number, health = noHealth): PodPlan {
  const policy: Policy = (pod.spec?.restartPolicy as Policy | undefined) ?? 'Always';
  const byName = (list: ContainerStatus[] | undefined, name: string) => list?.find((s) => s.name === name);
  const healthOf = (s: ContainerStatus | undefined) => (s ? health(s.id) : undefined);
  const containers: ContainerPlan[] = [];
  // Once an app container exists the pod was initialized: a sidecar that restarts later does not
  // hold the app back (kuberuntime_manager.go, computeInitContainerActions).
  const appsExist = (vm?.containers.length ?? 0) > 0;

  // Init containers run one after another; a failed one is retried unless the policy is Never.
  // A sidecar starts in its turn and the next init container waits until it has started.
  const initPolicy: Policy = policy === 'Never' ? 'Never' : 'OnFailure';
  for (const init of pod.spec?.initContainers ?? []) {
    const status = byName(vm?.initContainers, init.name);
    if (isSidecar(init)) {
      containers.push({
        name: init.name,
        role: 'sidecar',
        action: decide(status, 'Always', nowMs, healthOf(status)),
      });
      if (!appsExist && !hasStarted(status, health)) {
        return { containers, initFailed: false, initialized: false, completed: false };
      }
      continue;
    }
    const done = status?.state.kind === 'terminated' && status.state.exitCode === 0;
    if (done) {
      containers.push({ name: init.name, role: 'init', action: { kind: 'none' } });
      continue;
    }
    const action = decide(status, initPolicy, nowMs, undefined);
    containers.push({ name: init.name, role: 'init', action });
    const failed = status?.state.kind === 'terminated' && action.kind === 'none';
    return { containers, initFailed: failed, initialized: false, completed: false };
  }

  const apps = (pod.spec?.containers ?? []).map((app): ContainerPlan => {
    const status = byName(vm?.containers, app.name);
    return { name: app.name, role: 'app', action: decide(status, policy, nowMs, healthOf(status)) };
  });
  containers.push(...apps);
  const completed =
    policy !== 'Always' &&
    apps.length > 0 &&
    apps.every(
      (a) => a.action.kind === 'none' && byName(vm?.containers, a.name)?.state.kind === 'terminated',
    );
  if (completed) {
    // The app has ended for good: sidecars stop after it, and are not restarted.
    for (const c of containers) {
      if (c.role !== 'sidecar') continue;
      const status = byName(vm?.initContainers, c.name);
      c.action =
        status?.state.kind === 'running'
          ? { kind: 'kill', id: status.id, reason: 'podCompleted' }
          : { kind: 'none' };
    }
  }
  // Ephemeral (debug) containers start once and are never restarted, whatever the restart policy
  // (kuberuntime_manager.go computePodActions: only those with no status at all are started); none
  // starts in a pod that has ended.
  for (const debug of pod.spec?.ephemeralContainers ?? []) {
    const status = byName(vm?.ephemeralContainers, debug.name);
    const action: ContainerAction =
      completed || (status && status.state.kind !== 'waiting')
        ? { kind: 'none' }
        : status
          ? { kind: 'start', id: status.id }
          : { kind: 'run', attempt: 0, backoffFrom: 0 };
    containers.push({ name: debug.name, role: 'ephemeral', action });
  }
  return { containers, initFailed: false, initialized: true, completed };
}
