// Events on claims and PVs, as the external provisioner writes them (its component name, the
// object as involvedObject). Recording never throws: an event that cannot be written is logged.
import type { CoreV1Api, CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../shared/clock.js';
import { messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { PodEvent } from '../kube/event-recorder.js';
import { provisionerName } from './names.js';

export interface StorageEvents {
  record(
    object: KubernetesObject & { kind: 'PersistentVolumeClaim' | 'PersistentVolume' },
    event: Omit<PodEvent, 'fieldPath'>,
  ): void;
}

export class StorageEventRecorder implements StorageEvents {
  readonly #api: CoreV1Api;
  readonly #nodeName: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** The last message per object and reason: a repeat is not written again (the lib's recorder folds too). */
  readonly #last = new Map<string, string>();

  constructor(options: { api: CoreV1Api; nodeName: string; logger: Logger; clock?: Clock }) {
    this.#api = options.api;
    this.#nodeName = options.nodeName;
    this.#log = options.logger.child({ component: 'provisioner' });
    this.#clock = options.clock ?? systemClock;
  }

  record(
    object: KubernetesObject & { kind: 'PersistentVolumeClaim' | 'PersistentVolume' },
    { type, reason, message }: Omit<PodEvent, 'fieldPath'>,
  ): void {
    const meta = object.metadata ?? {};
    const key = `${meta.uid}/${reason}`;
    if (this.#last.get(key) === message) return;
    if (this.#last.size > 4096) this.#last.clear();
    this.#last.set(key, message);
    const who = meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
    this.#log[type === 'Warning' ? 'warn' : 'info']({ object: who, reason }, message);
    // PVs are cluster-scoped: their events go to the default namespace, as client-go's recorder does.
    const namespace = meta.namespace || 'default';
    const now = new Date(this.#clock.now());
    const component = `${provisionerName}_${this.#nodeName}`;
    const event: CoreV1Event = {
      metadata: { generateName: `${meta.name ?? 'object'}.`, namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: object.kind,
        name: meta.name ?? '',
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        uid: meta.uid ?? '',
        ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      type,
      reason,
      message,
      source: { component },
      reportingComponent: component,
      reportingInstance: this.#nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    this.#api
      .createNamespacedEvent({ namespace, body: event })
      .catch((err: unknown) => this.#log.warn({ reason, err: messageOf(err) }, 'event not recorded'));
  }
}
