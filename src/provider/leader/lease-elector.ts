// Leader election for one virtual node on a coordination.k8s.io Lease, after client-go's
// tools/leaderelection/leaderelection.go (tryAcquireOrRenew): a candidate takes the Lease when it is
// free or when its record has not changed for a whole lease duration by the candidate's own clock,
// and every write carries the resourceVersion it read, so two candidates never both win a round.
//
// Two choices go further than client-go, so that two replicas are never active at once even when the
// leader is paused (SIGSTOP, a frozen VM) and wakes later:
// - all durations are measured on a monotonic clock, never on the wall clock or the Lease's renewTime;
// - the leader counts its lease from the moment it *sent* its last successful renewal, not from the
//   answer, and holds it only for (leaseDuration - margin) from then. A standby starts counting at
//   the earliest when it sees that renewal, which the API server wrote after it was sent; so the
//   leader's own deadline always falls before any standby may take over.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound, messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { callApi } from '../kube/api-errors.js';

/** The Lease calls the elector makes (CoordinationV1Api fits; unit tests give a fake). */
export type LeaseApi = Pick<
  CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

/** Monotonic milliseconds (performance.now in production); never the wall clock. */
export type MonotonicClock = () => number;

export interface LeaseElectorOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  /** This replica's name in the Lease's holderIdentity: unique among the replicas. */
  identity: string;
  leaseDurationMs: number;
  /** How long a leader keeps acting without a successful renewal; below leaseDurationMs. */
  renewDeadlineMs: number;
  monotonic: MonotonicClock;
  /** The wall clock, only for the Lease's renewTime and acquireTime (which others read, never us). */
  wallNow?: () => Date;
  logger: Logger;
}

/**
 * What a standby watches for change. Any write changes the resourceVersion, so a renewal is seen even
 * when the holder's wall clock stood still (client-go compares the record alone).
 */
function recordOf(lease: V1Lease): string {
  return `${lease.metadata?.resourceVersion ?? ''} ${JSON.stringify(lease.spec ?? {})}`;
}

/** What one round of tryAcquireOrRenew found. */
export type ElectionRound =
  | { outcome: 'leading'; acquired: boolean }
  | { outcome: 'held'; holder: string }
  | { outcome: 'failed'; reason: string };

export class LeaseElector {
  readonly identity: string;
  readonly #o: LeaseElectorOptions;
  readonly #log: Logger;
  /** The Lease as last read or written by us, with its resourceVersion. */
  #lease: V1Lease | undefined;
  /** The record (spec) last observed, and when (monotonic) it was first seen in that form. */
  #observedRecord = '';
  #observedAt = 0;
  /** Monotonic time at which the last successful acquire or renewal was sent; undefined if not leader. */
  #renewSentAt: number | undefined;

  constructor(options: LeaseElectorOptions) {
    this.#o = options;
    this.identity = options.identity;
    this.#log = options.logger.child({ component: 'leader-election', lease: this.describe() });
  }

  describe(): string {
    return `${this.#o.namespace}/${this.#o.name}`;
  }

  /**
   * True while this replica may act as leader: it won the Lease and its last successful renewal was
   * sent less than renewDeadline ago. Read on the monotonic clock at each call, so a process that was
   * paused sees the truth on its first instruction after waking, whatever its timers say.
   */
  isLeading(): boolean {
    return (
      this.#renewSentAt !== undefined && this.#o.monotonic() - this.#renewSentAt < this.#o.renewDeadlineMs
    );
  }

  /** Milliseconds of leadership left (0 when not leading). */
  leadershipLeftMs(): number {
    if (this.#renewSentAt === undefined) return 0;
    return Math.max(0, this.#renewSentAt + this.#o.renewDeadlineMs - this.#o.monotonic());
  }

  /** One round: create the Lease, renew it, or take it over when its holder let it expire. */
  async tryAcquireOrRenew(): Promise<ElectionRound> {
    const sentAt = this.#o.monotonic();
    let current: V1Lease | undefined;
    try {
      // A leader renews from its own last write (one call); anyone else reads first.
      current = this.#renewSentAt !== undefined && this.#lease ? this.#lease : await this.#read();
    } catch (err) {
      return { outcome: 'failed', reason: messageOf(err) };
    }
    if (!current) return this.#create(sentAt);

    const spec = current.spec ?? {};
    const record = recordOf(current);
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAt = sentAt;
    }
    const holder = spec.holderIdentity ?? '';
    const mine = holder === this.identity;
    // leaseDurationSeconds as the holder wrote it: a holder with a longer lease is waited for longer.
    const durationMs = Math.max((spec.leaseDurationSeconds ?? 0) * 1000, this.#o.leaseDurationMs);
    if (holder !== '' && !mine && sentAt < this.#observedAt + durationMs) {
      this.#renewSentAt = undefined;
      return { outcome: 'held', holder };
    }
    const now = new V1MicroTime((this.#o.wallNow?.() ?? new Date()).getTime());
    const body: V1Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        renewTime: now,
        ...(mine ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      this.#lease = await callApi('update the leader election lease', () =>
        this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body }),
      );
    } catch (err) {
      // Conflict: someone wrote it since we read it (another candidate won, or it was deleted).
      // Forget our copy; the next round reads afresh. Leadership, if any, runs out on its own deadline.
      if (isConflict(err) || isNotFound(err)) this.#lease = undefined;
      return { outcome: 'failed', reason: messageOf(err) };
    }
    return this.#won(sentAt, !mine);
  }

  /**
   * Gives the Lease up (a clean stop), so that a standby takes over at once rather than after a lease
   * duration. Only called once this replica has stopped acting.
   */
  async release(): Promise<void> {
    const lease = this.#lease;
    const wasLeading = this.isLeading();
    this.#renewSentAt = undefined;
    if (!lease || !wasLeading) return;
    const now = new V1MicroTime((this.#o.wallNow?.() ?? new Date()).getTime());
    try {
      await callApi('release the leader election lease', () =>
        this.#o.api.replaceNamespacedLease({
          name: this.#o.name,
          namespace: this.#o.namespace,
          body: {
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
          },
        }),
      );
      this.#log.info({ identity: this.identity }, 'leader election lease released');
    } catch (err) {
      this.#log.warn({ err: messageOf(err) }, 'leader election lease not released; it will expire');
    }
  }

  #won(sentAt: number, acquired: boolean): ElectionRound {
    this.#renewSentAt = sentAt;
    this.#observedRecord = this.#lease ? recordOf(this.#lease) : '';
    this.#observedAt = sentAt;
    return { outcome: 'leading', acquired };
  }

  async #create(sentAt: number): Promise<ElectionRound> {
    const now = new V1MicroTime((this.#o.wallNow?.() ?? new Date()).getTime());
    try {
      this.#lease = await callApi('create the leader election lease', () =>
        this.#o.api.createNamespacedLease({
          namespace: this.#o.namespace,
          body: {
            metadata: { name: this.#o.name, namespace: this.#o.namespace },
            spec: {
              holderIdentity: this.identity,
              leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        }),
      );
    } catch (err) {
      // 409 AlreadyExists: another candidate created it first.
      return { outcome: 'failed', reason: messageOf(err) };
    }
    return this.#won(sentAt, true);
  }

  async #read(): Promise<V1Lease | undefined> {
    try {
      this.#lease = await callApi('read the leader election lease', () =>
        this.#o.api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace }),
      );
      return this.#lease;
    } catch (err) {
      if (isNotFound(err)) {
        this.#lease = undefined;
        return undefined;
      }
      throw err;
    }
  }
}
