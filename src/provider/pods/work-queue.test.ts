import test from 'ava';
import { WorkQueue } from './work-queue.js';
import { FakeClock } from '../../shared/fake-clock.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('a burst of adds of one key is handled once', async (t) => {
  const queue = new WorkQueue();
  const seen: string[] = [];
  queue.add('a');
  queue.add('a');
  queue.add('b');
  queue.add('a');
  const done = queue.run(async (key) => {
    seen.push(key);
    if (seen.length === 2) queue.shutDown();
  });
  await done;
  t.deepEqual(seen, ['a', 'b']);
});

test('a key added while it is handled runs again afterwards, never concurrently', async (t) => {
  const queue = new WorkQueue();
  const gate = deferred();
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  queue.add('k');
  const done = queue.run(async () => {
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    calls += 1;
    if (calls === 1) {
      queue.add('k');
      await gate.promise;
    } else {
      queue.shutDown();
    }
    running -= 1;
  }, 4);
  setImmediate(gate.resolve);
  await done;
  t.is(calls, 2);
  t.is(maxRunning, 1);
});

test('addAfter waits for the clock and keeps the earliest of two delays', async (t) => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  const seen: number[] = [];
  queue.addAfter('k', 10_000);
  queue.addAfter('k', 5_000);
  const done = queue.run(async () => {
    seen.push(clock.now());
    queue.shutDown();
  });
  clock.advance(4_999);
  t.is(queue.length, 0);
  clock.advance(1);
  await done;
  t.deepEqual(seen, [5_000]);
});
