import test from 'ava';
import { seededPrng } from './prng.js';

test('the same seed gives the same sequence, and ints stay in range', (t) => {
  const a = seededPrng(42);
  const b = seededPrng(42);
  const xs = Array.from({ length: 100 }, () => a.int(3, 7));
  t.deepEqual(
    xs,
    Array.from({ length: 100 }, () => b.int(3, 7)),
  );
  t.true(xs.every((x) => x >= 3 && x <= 7));
  t.deepEqual([...new Set(xs)].sort(), [3, 4, 5, 6, 7]);
  t.notDeepEqual(
    Array.from({ length: 5 }, () => seededPrng(1).next()),
    Array.from({ length: 5 }, () => seededPrng(2).next()),
  );
});
