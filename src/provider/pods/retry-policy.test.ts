import test from 'ava';
import { VicError } from '../../shared/errors.js';
import { RetryPolicy } from './retry-policy.js';

const backoff = { initialMs: 100, maxMs: 1_000, jitter: 0 };

test('a transient error is retried with growing, capped back-off', (t) => {
  const policy = new RetryPolicy({ backoff });
  const waits = Array.from({ length: 6 }, () => {
    const d = policy.decide('ns/p', new VicError('VchUnavailable', 'connect ECONNREFUSED'));
    return d.kind === 'retry' ? d.afterMs : -1;
  });
  t.deepEqual(waits, [100, 200, 400, 800, 1_000, 1_000]);
});

test('an Invalid error is given up at once: retrying gives the same answer', (t) => {
  const policy = new RetryPolicy({ backoff });
  const cause = new VicError('Invalid', 'patch pod status: spec.containers[0].image: Required value');
  t.like(policy.decide('ns/p', new Error('sync failed', { cause })), { kind: 'give-up', why: 'permanent' });
});

test('after maxRetries failures in a row the key is given up; a success starts afresh', (t) => {
  const policy = new RetryPolicy({ backoff, maxRetries: 3 });
  const err = new VicError('ApiServerUnavailable', 'connection reset');
  const kinds = Array.from({ length: 4 }, () => policy.decide('ns/p', err).kind);
  t.deepEqual(kinds, ['retry', 'retry', 'retry', 'give-up']);
  t.like(policy.decide('ns/p', err), { kind: 'retry', afterMs: 100 });
  policy.forget('ns/p');
  t.like(policy.decide('ns/p', err), { kind: 'retry', afterMs: 100, attempt: 1 });
});

test('keys are counted apart', (t) => {
  const policy = new RetryPolicy({ backoff, maxRetries: 1 });
  const err = new VicError('Timeout', 'slow');
  t.is(policy.decide('ns/a', err).kind, 'retry');
  t.is(policy.decide('ns/b', err).kind, 'retry');
  t.is(policy.decide('ns/a', err).kind, 'give-up');
});
