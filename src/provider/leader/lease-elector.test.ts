// The elector's decisions on a fake monotonic clock, against an in-memory Lease store that enforces
// resourceVersion as the API server does: acquire, renew, wait for a live holder, take over an expired
// one, lose on conflict, and stop leading at the renew deadline even when no request answers.
import test from 'ava';
import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { silentLogger } from '../../shared/logger.js';
import { LeaseElector, type LeaseApi } from './lease-elector.js';

/** One Lease object with the API server's optimistic concurrency. */
class LeaseStore implements LeaseApi {
  lease: V1Lease | undefined;
  #version = 0;
  writes = 0;
  /** When set, every call fails as an unreachable API server would. */
  down = false;

  #check(): void {
    if (this.down) throw new Error('connect ECONNREFUSED');
  }

  readNamespacedLease: LeaseApi['readNamespacedLease'] = async () => {
    this.#check();
    if (!this.lease) throw new ApiException(404, 'not found', '{"message":"not found"}', {});
    return structuredClone(this.lease);
  };

  createNamespacedLease: LeaseApi['createNamespacedLease'] = async ({ body }) => {
    this.#check();
    if (this.lease) throw new ApiException(409, 'exists', '{"message":"already exists"}', {});
    return this.#store(body);
  };

  replaceNamespacedLease: LeaseApi['replaceNamespacedLease'] = async ({ body }) => {
    this.#check();
    if (!this.lease) throw new ApiException(404, 'not found', '{"message":"not found"}', {});
    if (body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
      throw new ApiException(409, 'conflict', '{"message":"the object has been modified"}', {});
    }
    return this.#store(body);
  };

  #store(body: V1Lease): V1Lease {
    this.writes++;
    this.lease = structuredClone({
      ...body,
      metadata: { ...body.metadata, resourceVersion: String(++this.#version) },
    });
    return structuredClone(this.lease);
  }
}

function setup(store = new LeaseStore()) {
  let now = 1_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const elector = (identity: string) =>
    new LeaseElector({
      api: store,
      namespace: 'vic-system',
      name: 'vic-kubelet-n1',
      identity,
      leaseDurationMs: 10_000,
      renewDeadlineMs: 8_000,
      monotonic: clock.now,
      // The wall clock stands still: renewals must be told apart all the same.
      wallNow: () => new Date(0),
      logger: silentLogger,
    });
  return { store, clock, a: elector('a'), b: elector('b') };
}

test('the first candidate creates the Lease and leads; the second stands by', async (t) => {
  const { store, a, b } = setup();
  t.deepEqual(await a.tryAcquireOrRenew(), { outcome: 'leading', acquired: true });
  t.true(a.isLeading());
  t.is(store.lease?.spec?.holderIdentity, 'a');
  t.is(store.lease?.spec?.leaseDurationSeconds, 10);
  t.is(store.lease?.spec?.leaseTransitions, 0);
  t.deepEqual(await b.tryAcquireOrRenew(), { outcome: 'held', holder: 'a' });
  t.false(b.isLeading());
});

test('a leader renews from its own last write and its deadline moves with each renewal', async (t) => {
  const { store, clock, a } = setup();
  await a.tryAcquireOrRenew();
  const acquired = store.lease?.spec?.acquireTime;
  clock.advance(7_000);
  t.deepEqual(await a.tryAcquireOrRenew(), { outcome: 'leading', acquired: false });
  t.is(store.lease?.spec?.holderIdentity, 'a');
  t.deepEqual(store.lease?.spec?.acquireTime, acquired);
  clock.advance(7_000); // 14 s after acquiring, 7 s after the renewal
  t.true(a.isLeading());
});

test('a standby waits a whole lease duration from when it first saw the record unchanged', async (t) => {
  const { store, clock, a, b } = setup();
  await a.tryAcquireOrRenew();
  t.is((await b.tryAcquireOrRenew()).outcome, 'held'); // b first sees the record now
  clock.advance(9_999);
  t.is((await b.tryAcquireOrRenew()).outcome, 'held');
  clock.advance(1);
  t.deepEqual(await b.tryAcquireOrRenew(), { outcome: 'leading', acquired: true });
  t.is(store.lease?.spec?.holderIdentity, 'b');
  t.is(store.lease?.spec?.leaseTransitions, 1);
});

test('each renewal the standby sees restarts its wait', async (t) => {
  const { clock, a, b } = setup();
  await a.tryAcquireOrRenew();
  await b.tryAcquireOrRenew();
  for (let i = 0; i < 5; i++) {
    clock.advance(6_000);
    await a.tryAcquireOrRenew();
    t.is((await b.tryAcquireOrRenew()).outcome, 'held');
  }
});

test('the leader stops at its renew deadline, before any standby may take over', async (t) => {
  const { store, clock, a, b } = setup();
  await a.tryAcquireOrRenew(); // sent at t=1000
  clock.advance(100);
  await b.tryAcquireOrRenew(); // b sees the record at t=1100 at the earliest
  store.down = true;
  clock.advance(7_899);
  t.true(a.isLeading());
  clock.advance(1);
  t.false(a.isLeading(), 'a leader stops 8 s after it sent its last successful renewal');
  t.is(a.leadershipLeftMs(), 0);
  t.is((await a.tryAcquireOrRenew()).outcome, 'failed');
  t.false(a.isLeading());
  store.down = false;
  clock.advance(2_099); // 9999 ms after b saw the record: not yet
  t.is((await b.tryAcquireOrRenew()).outcome, 'held');
  clock.advance(1);
  t.is((await b.tryAcquireOrRenew()).outcome, 'leading');
});

test('the deadline counts from when the renewal was sent, not from its slow answer', async (t) => {
  const { store, clock, a } = setup();
  await a.tryAcquireOrRenew();
  const replace = store.replaceNamespacedLease;
  store.replaceNamespacedLease = async (request) => {
    clock.advance(5_000); // the answer comes 5 s after the request left
    return replace(request);
  };
  t.is((await a.tryAcquireOrRenew()).outcome, 'leading');
  t.is(a.leadershipLeftMs(), 3_000);
});

test('a leader loses on conflict and then sees the new holder', async (t) => {
  const { store, clock, a, b } = setup();
  await a.tryAcquireOrRenew();
  await b.tryAcquireOrRenew();
  // a is paused for longer than the lease: b takes over meanwhile.
  clock.advance(10_000);
  t.is((await b.tryAcquireOrRenew()).outcome, 'leading');
  t.false(a.isLeading(), 'the woken leader knows from its clock alone that it may not act');
  const failed = await a.tryAcquireOrRenew();
  t.is(failed.outcome, 'failed');
  t.regex(failed.outcome === 'failed' ? failed.reason : '', /modified/);
  t.is(store.lease?.spec?.holderIdentity, 'b', 'the stale renewal did not overwrite the new holder');
  t.deepEqual(await a.tryAcquireOrRenew(), { outcome: 'held', holder: 'b' });
  t.false(a.isLeading());
});

test('two standbys racing for an expired Lease: exactly one wins', async (t) => {
  const { store, clock, a } = setup();
  const others = setup(store);
  await a.tryAcquireOrRenew();
  const [b, c] = [others.b, new LeaseElector({ ...electorOptions(store, others.clock.now), identity: 'c' })];
  await b.tryAcquireOrRenew();
  await c.tryAcquireOrRenew();
  clock.advance(10_000);
  others.clock.advance(10_000);
  const rounds = await Promise.all([b.tryAcquireOrRenew(), c.tryAcquireOrRenew()]);
  t.is(rounds.filter((r) => r.outcome === 'leading').length, 1);
  t.is([b, c].filter((e) => e.isLeading()).length, 1);
});

test('a released Lease is taken at once', async (t) => {
  const { store, a, b } = setup();
  await a.tryAcquireOrRenew();
  t.is((await b.tryAcquireOrRenew()).outcome, 'held');
  await a.release();
  t.false(a.isLeading());
  t.is(store.lease?.spec?.holderIdentity, '');
  t.deepEqual(await b.tryAcquireOrRenew(), { outcome: 'leading', acquired: true });
});

test('a holder that wrote a longer lease is waited for that long', async (t) => {
  const { store, clock, b } = setup();
  store.lease = {
    metadata: { name: 'vic-kubelet-n1', namespace: 'vic-system', resourceVersion: '7' },
    spec: { holderIdentity: 'old', leaseDurationSeconds: 30 },
  };
  await b.tryAcquireOrRenew();
  clock.advance(29_999);
  t.is((await b.tryAcquireOrRenew()).outcome, 'held');
  clock.advance(1);
  t.is((await b.tryAcquireOrRenew()).outcome, 'leading');
});

function electorOptions(store: LeaseStore, monotonic: () => number) {
  return {
    api: store,
    namespace: 'vic-system',
    name: 'vic-kubelet-n1',
    leaseDurationMs: 10_000,
    renewDeadlineMs: 8_000,
    monotonic,
    logger: silentLogger,
  };
}
