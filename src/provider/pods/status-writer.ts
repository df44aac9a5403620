// Writes pod statuses to the API server: one patch per real change, none when the API server already
// holds what would be written, and no GET (the informer's copy, or what the last patch answered, is
// what the API server holds). As the kubelet's status manager (pkg/kubelet/status/status_manager.go:
// updateStatusInternal ignores a status equal to the one it last set; syncPod writes only what
// differs), but without its GET before each patch: the informer already has the pod.
//
// A pod that is only on its way (Pending, every container still ContainerCreating) changes again a
// moment later, to Running: such a status is held up to `holdMs` and replaced by the next one, so a
// pod that starts quickly costs one write. Every other status (Running, terminated, failed) is
// written at once, so status latency (a container exits, the API server shows it) is untouched.
import type { CoreV1Api, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Clock } from '../../shared/clock.js';
import { isNotFound, messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { callApi } from '../kube/api-errors.js';
import { strategicMergePatch } from '../kube/patch.js';
import { changedPaths, statusChanged } from './status-diff.js';

/** How long a status on the way to Running may wait for the next one (well under the 500 ms target). */
export const defaultHoldMs = 250;

export interface StatusWriterOptions {
  core: CoreV1Api;
  clock: Clock;
  logger: Logger;
  holdMs?: number;
  /** A held status could not be written (the pass that made it has returned): the pod wants a pass. */
  onWriteFailed?: (podKey: string) => void;
}

/** What the last patch of a pod answered, until the informer has seen it. */
interface Written {
  status: V1PodStatus;
  /** The informer's resourceVersion when the patch was made: while it still shows that, it is stale. */
  staleVersion: string | undefined;
}

interface Held {
  pod: V1Pod;
  body: Record<string, unknown>;
  timer: { cancel(): void };
}

/** One status to write: the whole desired status (to compare) and the patch body that says it. */
export interface StatusWrite {
  pod: V1Pod;
  status: V1PodStatus;
  body: Record<string, unknown>;
  /** False when the pod waits for something (a retry, a failed step): no successor is coming soon. */
  mayHold?: boolean;
}

const uidOf = (pod: V1Pod): string => pod.metadata?.uid ?? '';
const keyOf = (pod: V1Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/**
 * A status the node is still starting: Pending, and every container (init or app) waiting as it is
 * created. The next pass, a few hundred milliseconds later, usually has it Running.
 */
export function isTransitional(status: V1PodStatus): boolean {
  if (status.phase !== 'Pending') return false;
  const all = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  if (all.length === 0) return false;
  return all.every((c) => {
    const reason = c.state?.waiting?.reason;
    return reason === 'ContainerCreating' || reason === 'PodInitializing';
  });
}

export class StatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #log: Logger;
  readonly #written = new Map<string, Written>();
  readonly #held = new Map<string, Held>();
  /** The patch in flight per pod: the next one waits for it, so they reach the API server in order. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(options: StatusWriterOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'pod-status' });
  }

  /**
   * The pod with the freshest status the API server is known to hold: the informer's copy, or what
   * our last patch answered while the informer still shows the version from before it.
   */
  freshest(pod: V1Pod): V1Pod {
    const uid = uidOf(pod);
    const written = this.#written.get(uid);
    if (!written) return pod;
    if (pod.metadata?.resourceVersion === written.staleVersion) return { ...pod, status: written.status };
    // The informer has seen our patch, or something newer: it is the truth again.
    this.#written.delete(uid);
    return pod;
  }

  /**
   * Writes the status if it differs from the freshest the API server holds; a transitional one is
   * held (see isTransitional). Returns whether a patch was made or held.
   */
  async write(w: StatusWrite): Promise<boolean> {
    const uid = uidOf(w.pod);
    const current = this.freshest(w.pod).status;
    if (!statusChanged(current, w.status)) {
      // The API server already shows it: a held status on the way there is stale too.
      this.#cancelHeld(uid);
      return false;
    }
    // What changed, so that every write can be accounted for (issue 15: requests per pod).
    this.#log.debug({ pod: keyOf(w.pod), changed: changedPaths(current, w.status) }, 'pod status changed');
    const holdMs = this.#o.holdMs ?? defaultHoldMs;
    if (holdMs > 0 && w.mayHold !== false && isTransitional(w.status)) {
      const held = this.#held.get(uid);
      if (held) {
        // Replaced by the newer status; the first one's deadline stays, so it is never later.
        held.pod = w.pod;
        held.body = w.body;
      } else {
        const timer = this.#o.clock.setTimeout(() => void this.#flush(uid), holdMs);
        this.#held.set(uid, { pod: w.pod, body: w.body, timer });
      }
      return true;
    }
    this.#cancelHeld(uid);
    await this.#patch(w.pod, w.body);
    return true;
  }

  /** A patch made now, whatever it holds (a rejection, a terminal status): no comparison, no hold. */
  async patchNow(pod: V1Pod, body: Record<string, unknown>): Promise<void> {
    this.#cancelHeld(uidOf(pod));
    await this.#patch(pod, body);
  }

  /** Drops what is kept of a pod that is gone. */
  forget(uid: string): void {
    this.#cancelHeld(uid);
    this.#written.delete(uid);
  }

  /** Whether a status of the pod is held, waiting for its successor (for tests and metrics). */
  holding(uid: string): boolean {
    return this.#held.has(uid);
  }

  #cancelHeld(uid: string): void {
    const held = this.#held.get(uid);
    if (!held) return;
    held.timer.cancel();
    this.#held.delete(uid);
  }

  async #flush(uid: string): Promise<void> {
    const held = this.#held.get(uid);
    if (!held) return;
    this.#held.delete(uid);
    try {
      await this.#patch(held.pod, held.body);
    } catch (err) {
      this.#log.warn(
        { pod: keyOf(held.pod), err: messageOf(err) },
        'held pod status not written; syncing again',
      );
      this.#o.onWriteFailed?.(keyOf(held.pod));
    }
  }

  async #patch(pod: V1Pod, body: Record<string, unknown>): Promise<void> {
    const uid = uidOf(pod);
    const previous = this.#inFlight.get(uid);
    const current = (async () => {
      // A held status flushed a moment before must not land after the newer one.
      await previous?.catch(() => undefined);
      await this.#send(pod, body);
    })();
    this.#inFlight.set(uid, current);
    try {
      await current;
    } finally {
      if (this.#inFlight.get(uid) === current) this.#inFlight.delete(uid);
    }
  }

  async #send(pod: V1Pod, body: Record<string, unknown>): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    try {
      const answered = await callApi(`update status of pod ${namespace}/${name}`, () =>
        this.#o.core.patchNamespacedPodStatus(
          { name, namespace, body: { status: body } },
          strategicMergePatch,
        ),
      );
      // The informer's copy at this version does not show the patch (its metadata is the informer's
      // even when freshest() lent it the status of an earlier patch).
      const staleVersion = pod.metadata?.resourceVersion;
      if (answered?.status) this.#written.set(uidOf(pod), { status: answered.status, staleVersion });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
