// Node conditions as a kubelet writes them: Ready follows the VCH's health; the pressure conditions
// are False while the VCH answers. Transition times move only when a status changes.
import type { V1NodeCondition } from '@kubernetes/client-node';
import type { VchHealth } from './types.js';

type ConditionCore = Pick<V1NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

export function desiredConditions(health: VchHealth): ConditionCore[] {
  const ready: ConditionCore = health.reachable
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
    : {
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message: `VCH is unreachable: ${health.reason}`,
      };
  return [
    {
      type: 'MemoryPressure',
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
      message: 'kubelet has sufficient memory available',
    },
    {
      type: 'DiskPressure',
      status: 'False',
      reason: 'KubeletHasNoDiskPressure',
      message: 'kubelet has no disk pressure',
    },
    {
      type: 'PIDPressure',
      status: 'False',
      reason: 'KubeletHasSufficientPID',
      message: 'kubelet has sufficient PID available',
    },
    ready,
  ];
}

/** Stamps heartbeat times, keeping each condition's lastTransitionTime unless its status changed. */
export function stampConditions(
  desired: ConditionCore[],
  previous: V1NodeCondition[] | undefined,
  now: Date,
): V1NodeCondition[] {
  return desired.map((condition) => {
    const before = previous?.find((p) => p.type === condition.type);
    const transitioned = !before || before.status !== condition.status;
    return {
      ...condition,
      lastHeartbeatTime: now,
      lastTransitionTime: transitioned ? now : (before.lastTransitionTime ?? now),
    };
  });
}

/** True when two condition lists differ in anything but their heartbeat times. */
export function conditionsChanged(a: V1NodeCondition[] | undefined, b: V1NodeCondition[]): boolean {
  if (!a || a.length !== b.length) return true;
  return b.some((cond) => {
    const other = a.find((x) => x.type === cond.type);
    return (
      !other || other.status !== cond.status || other.reason !== cond.reason || other.message !== cond.message
    );
  });
}
