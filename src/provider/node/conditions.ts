// Node conditions as a kubelet writes them: Ready follows the VCH's health. A pressure condition is
// True or False only when something measured it; otherwise, and whenever the VCH is unreachable, it is
// Unknown, as the node lifecycle controller writes every condition of a node it has not heard from
// (pkg/controller/nodelifecycle: reason NodeStatusUnknown). Transition times move only on a change.
import type { V1NodeCondition } from '@kubernetes/client-node';
import type { HostFacts, VchHealth } from './types.js';

type ConditionCore = Pick<V1NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

/** What the node can measure for its conditions. */
export interface PressureFacts {
  storageBytes?: number;
  storageAvailableBytes?: number;
}

/**
 * The kubelet's default hard eviction threshold for the node filesystem, nodefs.available<10%
 * (pkg/kubelet/eviction/defaults_linux.go): below it a kubelet reports DiskPressure.
 */
export const diskPressureAvailableFraction = 0.1;

function unknown(type: string, why: string): ConditionCore {
  return { type, status: 'Unknown', reason: 'NodeStatusUnknown', message: why };
}

function diskPressure(facts: PressureFacts | undefined): ConditionCore {
  const size = facts?.storageBytes;
  const available = facts?.storageAvailableBytes;
  if (size === undefined || available === undefined || size <= 0) {
    return unknown('DiskPressure', 'the VCH does not report how much of its storage is free');
  }
  // As pkg/kubelet/nodestatus/setters.go DiskPressureCondition words it.
  return available / size < diskPressureAvailableFraction
    ? {
        type: 'DiskPressure',
        status: 'True',
        reason: 'KubeletHasDiskPressure',
        message: 'kubelet has disk pressure',
      }
    : {
        type: 'DiskPressure',
        status: 'False',
        reason: 'KubeletHasNoDiskPressure',
        message: 'kubelet has no disk pressure',
      };
}

export function desiredConditions(
  health: VchHealth,
  facts?: Pick<HostFacts, 'storageBytes' | 'storageAvailableBytes'>,
): ConditionCore[] {
  if (!health.reachable) {
    const why = `VCH is unreachable: ${health.reason}`;
    return [
      unknown('MemoryPressure', why),
      unknown('DiskPressure', why),
      unknown('PIDPressure', why),
      { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: why },
    ];
  }
  return [
    unknown('MemoryPressure', 'the VCH does not report the memory use of its whole host'),
    diskPressure(facts),
    unknown('PIDPressure', 'the VCH does not report the process count of its whole host'),
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
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
