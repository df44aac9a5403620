import test from 'ava';
import { AsyncQueue, ResizeDecoder } from './resize.js';

test('sizes are decoded from newline-delimited JSON split anywhere', (t) => {
  const wire = '{"Width":80,"Height":24}\n{"Width":100,"Height":40}\n';
  for (let cut = 0; cut <= wire.length; cut++) {
    const decoder = new ResizeDecoder();
    const sizes = [
      ...decoder.push(Buffer.from(wire.slice(0, cut))),
      ...decoder.push(Buffer.from(wire.slice(cut))),
    ];
    t.deepEqual(sizes, [
      { width: 80, height: 24 },
      { width: 100, height: 40 },
    ]);
  }
});

test('objects without newlines (JavaScript client) and other casings decode too', (t) => {
  const decoder = new ResizeDecoder();
  t.deepEqual(decoder.push('{"width":1,"height":2}{"Width":3,"Height":4}'), [
    { width: 1, height: 2 },
    { width: 3, height: 4 },
  ]);
});

test('malformed objects are skipped', (t) => {
  const decoder = new ResizeDecoder();
  t.deepEqual(decoder.push('{"Width":"wide"}{"Width":-1,"Height":2}{"Width":5,"Height":6}'), [
    { width: 5, height: 6 },
  ]);
});

test('the queue hands items to a reader and ends', async (t) => {
  const queue = new AsyncQueue<number>(2);
  queue.push(1);
  queue.push(2);
  queue.push(3); // the oldest is dropped past the limit
  queue.end();
  const seen: number[] = [];
  for await (const item of queue) seen.push(item);
  t.deepEqual(seen, [2, 3]);
});

test('a waiting reader gets items as they come', async (t) => {
  const queue = new AsyncQueue<string>();
  const iterator = queue[Symbol.asyncIterator]();
  const pending = iterator.next();
  queue.push('a');
  t.deepEqual(await pending, { value: 'a', done: false });
  queue.end();
  t.deepEqual(await iterator.next(), { value: undefined, done: true });
});
