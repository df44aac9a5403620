// Carries out an in-place resize as resize-plan.ts decides it: a container update through the VCH
// for resizePolicy NotRequired, a restart into a new attempt for RestartContainer; events as the
// kubelet records them (ResizeStarted, ResizeCompleted, ResizeInfeasible / ResizeDeferred when a
// resize becomes pending, ResizeError).
import type { V1Pod } from '@kubernetes/client-node';
import { messageOf } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import type { PodVmLifecycle } from '../../../vch/index.js';
import type { PodVmStatus } from '../../../vch/types.js';
import type { EventRecorder } from '../../kube/event-recorder.js';
import { decideResize, type ContainerResize, type ResizeInputs } from './resize-plan.js';
import { resizeEventMessage, resizePendingType, type ResizeReport } from './resize-status.js';

export interface ResizerOptions {
  pods: Pick<PodVmLifecycle, 'updateResources'>;
  recorder: EventRecorder;
  logger: Logger;
  /** Stops the container and runs its next attempt with the new resources (RestartContainer). */
  restart: (pod: V1Pod, resize: ContainerResize) => Promise<void>;
}

export interface ResizeOutcome extends ResizeReport {
  /** A container was updated or restarted: the pod VM's status is stale. */
  changed: boolean;
}

export class Resizer {
  readonly #o: ResizerOptions;
  readonly #log: Logger;

  constructor(options: ResizerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'resize' });
  }

  async reconcile(inputs: Omit<ResizeInputs, 'vm'> & { vm: PodVmStatus }): Promise<ResizeOutcome> {
    const { pod } = inputs;
    const decision = decideResize(inputs);
    if (decision.pending) {
      const before = pod.status?.conditions?.find((c) => c.type === resizePendingType);
      // An event when the resize becomes pending (or pending for another reason), not every pass.
      if (before?.reason !== decision.pending.reason || before.message !== decision.pending.message) {
        const reason = decision.pending.reason === 'Infeasible' ? 'ResizeInfeasible' : 'ResizeDeferred';
        const text = resizeEventMessage(
          pod,
          `Pod resize ${decision.pending.reason}`,
          decision.pending.message,
        );
        this.#o.recorder.record(pod, { type: 'Warning', reason, message: text });
      }
      return { changed: false, pending: decision.pending };
    }
    if (!decision.actions.length) return { changed: false };
    this.#o.recorder.record(pod, {
      type: 'Normal',
      reason: 'ResizeStarted',
      message: resizeEventMessage(pod, 'Pod resize started'),
    });
    try {
      for (const action of decision.actions) await this.#apply(pod, action);
    } catch (err) {
      const message = messageOf(err);
      this.#o.recorder.record(pod, {
        type: 'Warning',
        reason: 'ResizeError',
        message: resizeEventMessage(pod, 'Pod resize error', message),
      });
      return { changed: true, error: message };
    }
    this.#o.recorder.record(pod, {
      type: 'Normal',
      reason: 'ResizeCompleted',
      message: resizeEventMessage(pod, 'Pod resize completed'),
    });
    return { changed: true };
  }

  async #apply(pod: V1Pod, action: ContainerResize): Promise<void> {
    this.#log.info(
      { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, container: action.name, how: action.how },
      'resizing container',
    );
    if (action.how === 'update') await this.#o.pods.updateResources(action.id, action.resources);
    else await this.#o.restart(pod, action);
  }
}
