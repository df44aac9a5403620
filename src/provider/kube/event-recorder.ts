// Records core/v1 Events as a kubelet does (source component "kubelet", host = node name), folding
// repeats of the same event into a count instead of a new object. Recording never throws: an event
// that cannot be written is logged and dropped, as client-go's recorder does.
import type { CoreV1Api, CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../shared/clock.js';
import { messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { mergePatch } from './patch.js';

export type EventType = 'Normal' | 'Warning';

/** One event about a pod, as a kubelet words it. */
export interface PodEvent {
  type: EventType;
  /** The kubelet's reason, e.g. BackOff, Unhealthy, FailedMount. */
  reason: string;
  message: string;
  /** The container the event is about, e.g. spec.containers{web}. */
  fieldPath?: string;
}

export interface EventRecorder {
  record(pod: V1Pod, event: PodEvent): void;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

const foldWindowMs = 10 * 60_000;
const maxRemembered = 4096;

export class KubeletEventRecorder implements EventRecorder {
  readonly #api: CoreV1Api;
  readonly #nodeName: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #recent = new Map<string, Recorded>();

  constructor(options: { api: CoreV1Api; nodeName: string; logger: Logger; clock?: Clock }) {
    this.#api = options.api;
    this.#nodeName = options.nodeName;
    this.#log = options.logger.child({ component: 'events' });
    this.#clock = options.clock ?? systemClock;
  }

  record(pod: V1Pod, event: PodEvent): void {
    const { type, reason, message, fieldPath } = event;
    // A warning is something for an operator to act on: said in the log as well as on the pod.
    if (type === 'Warning') {
      const name = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
      this.#log.info({ pod: name, reason, ...(fieldPath ? { fieldPath } : {}) }, message);
    }
    this.#write(pod, event).catch((err: unknown) =>
      this.#log.warn({ reason, pod: pod.metadata?.name, err: messageOf(err) }, 'event not recorded'),
    );
  }

  async #write(pod: V1Pod, event: PodEvent): Promise<void> {
    const { type, reason, message, fieldPath } = event;
    const namespace = pod.metadata?.namespace ?? 'default';
    const uid = pod.metadata?.uid ?? '';
    const key = [uid, fieldPath ?? '', type, reason, message].join('\u0000');
    const now = new Date(this.#clock.now());
    const previous = this.#recent.get(key);
    if (previous && now.getTime() - previous.at < foldWindowMs) {
      previous.count += 1;
      previous.at = now.getTime();
      await this.#api.patchNamespacedEvent(
        { name: previous.name, namespace, body: { count: previous.count, lastTimestamp: now } },
        mergePatch,
      );
      return;
    }
    const podName = pod.metadata?.name ?? '';
    const body: CoreV1Event = {
      metadata: {
        name: `${podName}.${now.getTime().toString(16)}${Math.random().toString(16).slice(2, 6)}`,
        namespace,
      },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: podName,
        namespace,
        uid,
        resourceVersion: pod.metadata?.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      type,
      reason,
      message,
      source: { component: 'kubelet', host: this.#nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: this.#nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const created = await this.#api.createNamespacedEvent({ namespace, body });
    if (this.#recent.size >= maxRemembered) this.#recent.clear();
    this.#recent.set(key, { name: created.metadata?.name ?? '', namespace, count: 1, at: now.getTime() });
  }
}
