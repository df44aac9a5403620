// The election loop with a scripted elector and a sleep that only advances a fake clock: a standby
// retries until it wins, a leader renews, and leadership ends once, with its reason, when another
// holder appears, when renewals fail past the deadline, or when the loop wakes up past it.
import test from 'ava';
import { silentLogger } from '../../shared/logger.js';
import { runElection, type Sleep } from './election-loop.js';
import type { ElectionRound, LeaseElector } from './lease-elector.js';

/** An elector whose rounds are scripted and whose deadline is read from a fake clock. */
function scripted(rounds: ElectionRound[], deadlineMs = 8_000) {
  let now = 0;
  let sentAt: number | undefined;
  const calls: number[] = [];
  const elector = {
    identity: 'me',
    describe: () => 'ns/vic-kubelet-n1',
    isLeading: () => sentAt !== undefined && now - sentAt < deadlineMs,
    leadershipLeftMs: () => (sentAt === undefined ? 0 : Math.max(0, sentAt + deadlineMs - now)),
    tryAcquireOrRenew: async () => {
      calls.push(now);
      const round = rounds.shift() ?? { outcome: 'failed', reason: 'script ended' };
      if (round.outcome === 'leading') sentAt = now;
      if (round.outcome === 'held') sentAt = undefined;
      return round;
    },
  } as unknown as LeaseElector;
  const sleep: Sleep = async (ms) => {
    now += ms;
  };
  return { elector, sleep, calls, advance: (ms: number) => (now += ms) };
}

async function run(s: ReturnType<typeof scripted>, signal = new AbortController().signal) {
  const events: string[] = [];
  await runElection({
    elector: s.elector,
    renewIntervalMs: 2_000,
    retryIntervalMs: 2_000,
    signal,
    logger: silentLogger,
    sleep: s.sleep,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: (reason) => events.push(`stopped: ${reason}`),
  });
  return events;
}

const held: ElectionRound = { outcome: 'held', holder: 'other' };
const leading: ElectionRound = { outcome: 'leading', acquired: false };
const failed: ElectionRound = { outcome: 'failed', reason: 'connect ECONNREFUSED' };

test('a standby retries every retry interval until it wins, then renews every renew interval', async (t) => {
  const s = scripted([held, held, { outcome: 'leading', acquired: true }, leading, leading, held]);
  const events = await run(s);
  t.deepEqual(s.calls, [0, 2_000, 4_000, 6_000, 8_000, 10_000]);
  t.deepEqual(events, ['started', 'stopped: the lease is held by other']);
});

test('failed renewals are retried until the deadline, then leadership ends', async (t) => {
  const s = scripted([leading, failed, failed, failed, failed]);
  const events = await run(s);
  // Won at 0; renewals fail at 2, 4, 6 s (still leading) and 8 s: the deadline has passed.
  t.deepEqual(s.calls, [0, 2_000, 4_000, 6_000]);
  t.deepEqual(events, [
    'started',
    'stopped: the renew deadline passed before the next renewal (was the process paused?)',
  ]);
});

test('a renewal whose failure comes after the deadline ends leadership with its error', async (t) => {
  const s = scripted([leading, failed]);
  const attempt = s.elector.tryAcquireOrRenew.bind(s.elector);
  s.elector.tryAcquireOrRenew = async () => {
    const round = await attempt();
    if (round.outcome === 'failed') s.advance(7_000); // the request hung for 7 s before failing
    return round;
  };
  const events = await run(s);
  t.deepEqual(s.calls, [0, 2_000]);
  t.deepEqual(events, [
    'started',
    'stopped: no renewal succeeded within the renew deadline (last error: connect ECONNREFUSED)',
  ]);
});

test('a loop that wakes up past its deadline stops without trying to renew', async (t) => {
  const s = scripted([leading, leading]);
  const sleep = s.sleep;
  let slept = 0;
  const paused: Sleep = async (ms, signal) => {
    await sleep(ms, signal);
    if (++slept === 1) s.advance(60_000); // SIGSTOP for a minute during the first wait
  };
  const events: string[] = [];
  await runElection({
    elector: s.elector,
    renewIntervalMs: 2_000,
    retryIntervalMs: 2_000,
    signal: new AbortController().signal,
    logger: silentLogger,
    sleep: paused,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: (reason) => events.push(reason),
  });
  t.deepEqual(s.calls, [0], 'no renewal was sent after waking');
  t.deepEqual(events, [
    'started',
    'the renew deadline passed before the next renewal (was the process paused?)',
  ]);
});

test('an abort ends the loop quietly', async (t) => {
  const abort = new AbortController();
  const s = scripted([held, held, held]);
  const sleep = s.sleep;
  s.sleep = async (ms, signal) => {
    await sleep(ms, signal);
    abort.abort();
  };
  t.deepEqual(await run(s, abort.signal), []);
  t.is(s.calls.length, 1);
});
