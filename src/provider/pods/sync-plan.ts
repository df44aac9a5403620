// What the pod controller should do next for one pod, decided from the pod's spec and what the VCH
// says exists: run the next init container, (re)start app containers as the restart policy says, or
// wait out the kubelet's crash back-off. A pure function: every pass re-derives it from the VCH.
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerStatus, PodVmStatus } from '../../vch/types.js';

export type ContainerAction =
  | { kind: 'none' }
  /** Pull, create and start a new container at this attempt. */
  | { kind: 'run'; attempt: number }
  /** A container was created but never started (a crash between the two). */
  | { kind: 'start'; containerID: string }
  /** Restart wanted, but the back-off has not run out. */
  | { kind: 'backoff'; untilMs: number; delayMs: number };

export interface ContainerPlan {
  name: string;
  role: 'init' | 'app';
  action: ContainerAction;
}

export interface PodPlan {
  containers: ContainerPlan[];
  /** An init container failed and the restart policy is Never: the pod has failed. */
  initFailed: boolean;
  /** All init containers have completed. */
  initialized: boolean;
}

export const initialBackoffMs = 10_000;
export const maxBackoffMs = 300_000;
/** A container that ran this long before it stopped starts its back-off afresh. */
export const backoffResetMs = 600_000;

type Policy = 'Always' | 'OnFailure' | 'Never';

export function shouldRestart(policy: Policy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/**
 * The kubelet's crash back-off: the first restart is immediate, then 10 s doubling to 5 min, reset
 * after 10 min of running. `attempt` counts the restarts so far (0 for the first container).
 */
export function restartDelayMs(attempt: number, startedAt?: Date, finishedAt?: Date): number {
  if (startedAt && finishedAt && finishedAt.getTime() - startedAt.getTime() >= backoffResetMs) return 0;
  if (attempt === 0) return 0;
  return Math.min(initialBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
}

function decide(status: ContainerStatus | undefined, policy: Policy, nowMs: number): ContainerAction {
  if (!status) return { kind: 'run', attempt: 0 };
  const state = status.state;
  if (state.kind === 'running') return { kind: 'none' };
  if (state.kind === 'waiting') return { kind: 'start', containerID: status.containerID };
  if (!shouldRestart(policy, state.exitCode)) return { kind: 'none' };
  const delayMs = restartDelayMs(status.attempt, state.startedAt, state.finishedAt);
  const untilMs = (state.finishedAt?.getTime() ?? nowMs) + delayMs;
  if (untilMs > nowMs) return { kind: 'backoff', untilMs, delayMs };
  return { kind: 'run', attempt: status.attempt + 1 };
}

export function planPod(pod: V1Pod, vm: PodVmStatus | undefined, nowMs: number): PodPlan {
  const policy: Policy = (pod.spec?.restartPolicy as Policy | undefined) ?? 'Always';
  const byName = (list: ContainerStatus[] | undefined, name: string) => list?.find((s) => s.name === name);
  const containers: ContainerPlan[] = [];

  // Init containers run one after another; a failed one is retried unless the policy is Never.
  const initPolicy: Policy = policy === 'Never' ? 'Never' : 'OnFailure';
  for (const init of pod.spec?.initContainers ?? []) {
    const status = byName(vm?.initContainers, init.name);
    const done = status?.state.kind === 'terminated' && status.state.exitCode === 0;
    if (done) {
      containers.push({ name: init.name, role: 'init', action: { kind: 'none' } });
      continue;
    }
    const action = decide(status, initPolicy, nowMs);
    containers.push({ name: init.name, role: 'init', action });
    const failed = status?.state.kind === 'terminated' && action.kind === 'none';
    return { containers, initFailed: failed, initialized: false };
  }

  for (const app of pod.spec?.containers ?? []) {
    containers.push({
      name: app.name,
      role: 'app',
      action: decide(byName(vm?.containers, app.name), policy, nowMs),
    });
  }
  return { containers, initFailed: false, initialized: true };
}
