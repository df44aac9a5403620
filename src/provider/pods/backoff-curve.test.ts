import test from 'ava';
import { backoffDelayMs, maxBackoffMs } from './backoff-curve.js';

test('the back-off curve is 10 s doubling to a 5 min cap, nothing before the first failure', (t) => {
  t.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 20].map(backoffDelayMs),
    [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000],
  );
  t.is(backoffDelayMs(100), maxBackoffMs);
});
