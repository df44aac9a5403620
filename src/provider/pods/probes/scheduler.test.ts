import test from 'ava';
import { FakeClock } from '../../../shared/fake-clock.js';
import { ProbeScheduler } from './scheduler.js';

test('entries run in due order on one timer; a cancelled one never runs', (t) => {
  const clock = new FakeClock(0);
  const s = new ProbeScheduler(clock);
  const ran: string[] = [];
  s.at(300, () => ran.push('c'));
  s.at(100, () => ran.push('a'));
  const b = s.at(200, () => ran.push('b'));
  s.at(100, () => ran.push('a2'));
  b.cancel();
  clock.advance(150);
  t.deepEqual(ran, ['a', 'a2']);
  clock.advance(200);
  t.deepEqual(ran, ['a', 'a2', 'c']);
});

test('an entry scheduled from a running entry runs at its own time', (t) => {
  const clock = new FakeClock(0);
  const s = new ProbeScheduler(clock);
  const times: number[] = [];
  const tick = () => {
    times.push(clock.now());
    if (times.length < 3) s.at(clock.now() + 1000, tick);
  };
  s.at(1000, tick);
  clock.advance(10_000);
  t.deepEqual(times, [1000, 2000, 3000]);
});
