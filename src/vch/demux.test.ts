import test from 'ava';
import { PassThrough, Writable } from 'node:stream';
import { Demuxer, FrameParser, pumpJoined } from './demux.js';

function frame(type: number, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

const wire = Buffer.concat([
  frame(1, 'out-1\n'),
  frame(2, 'err-1\n'),
  frame(1, ''),
  frame(1, 'out-2\n'),
  frame(0, 'in'),
]);

test('frames come out whole wherever the input is cut', (t) => {
  for (let cut = 0; cut <= wire.length; cut++) {
    const p = new FrameParser();
    const frames = [...p.push(wire.subarray(0, cut)), ...p.push(wire.subarray(cut))];
    t.deepEqual(
      frames.map((f) => [f.stream, f.data.toString()]),
      [
        [1, 'out-1\n'],
        [2, 'err-1\n'],
        [1, 'out-2\n'],
        [0, 'in'],
      ],
      `cut at ${cut}`,
    );
    t.is(p.pendingBytes, 0);
  }
});

test('byte by byte works too', (t) => {
  const p = new FrameParser();
  const frames = [...wire].flatMap((b) => p.push(Buffer.from([b])));
  t.is(frames.map((f) => f.data.toString()).join(''), 'out-1\nerr-1\nout-2\nin');
});

test('consecutive frames of one stream come back as one, joined, wherever the input is cut', (t) => {
  const lines = Buffer.concat([
    frame(1, 'a\n'),
    frame(1, 'bb\n'),
    frame(1, 'ccc\n'),
    frame(2, 'e\n'),
    frame(1, 'd\n'),
  ]);
  const whole = new FrameParser().push(lines);
  t.deepEqual(
    whole.map((f) => [f.stream, f.data.toString()]),
    [
      [1, 'a\nbb\nccc\n'],
      [2, 'e\n'],
      [1, 'd\n'],
    ],
  );
  for (let cut = 0; cut <= lines.length; cut++) {
    const p = new FrameParser();
    const frames = [...p.push(lines.subarray(0, cut)), ...p.push(lines.subarray(cut))];
    const text = (stream: number) =>
      frames
        .filter((f) => f.stream === stream)
        .map((f) => f.data.toString())
        .join('');
    t.is(text(1), 'a\nbb\nccc\nd\n', `cut at ${cut}`);
    t.is(text(2), 'e\n', `cut at ${cut}`);
    t.is(p.pendingBytes, 0);
  }
});

test('a frame cut across several chunks is finished from the next chunks, and the frames after it follow', (t) => {
  const big = 'x'.repeat(10_000);
  const input = Buffer.concat([frame(1, big), frame(1, 'after\n'), frame(2, 'err\n'), frame(1, 'last\n')]);
  for (const size of [7, 3000, 4096, 10_007, 10_008]) {
    const p = new FrameParser();
    const frames: { stream: number; data: Buffer }[] = [];
    for (let at = 0; at < input.length; at += size) frames.push(...p.push(input.subarray(at, at + size)));
    const text = (stream: number) =>
      frames
        .filter((f) => f.stream === stream)
        .map((f) => f.data.toString())
        .join('');
    t.is(text(1), `${big}after\nlast\n`, `chunks of ${size}`);
    t.is(text(2), 'err\n', `chunks of ${size}`);
    t.is(p.pendingBytes, 0);
  }
});

test('bytes that are no header after whole frames pass on raw as stdout, from there on', (t) => {
  const p = new FrameParser();
  const frames = [
    ...p.push(Buffer.concat([frame(2, 'err\n'), Buffer.from('plain text')])),
    ...p.push(Buffer.from('!')),
  ];
  t.deepEqual(
    frames.map((f) => [f.stream, f.data.toString()]),
    [
      [2, 'err\n'],
      [1, 'plain text'],
      [1, '!'],
    ],
  );
});

test('a stream that is not multiplexed passes through raw as stdout', (t) => {
  const p = new FrameParser();
  const frames = [...p.push(Buffer.from('hello tty world')), ...p.push(Buffer.from('!'))];
  t.is(frames.map((f) => f.data.toString()).join(''), 'hello tty world!');
  t.true(frames.every((f) => f.stream === 1));
});

test('the demuxer splits to stdout and stderr and waits for a slow reader', async (t) => {
  const out: string[] = [];
  const releases: (() => void)[] = [];
  const slow = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _e, cb) {
      out.push(chunk.toString());
      releases.push(() => cb());
    },
  });
  const err = new PassThrough();
  const d = new Demuxer(slow, err);
  d.write(Buffer.concat([frame(1, 'x'.repeat(100)), frame(2, 'oops')]));
  d.write(frame(1, 'later'));
  const finished = new Promise((r) => d.on('finish', r));
  d.end();
  await new Promise((r) => setImmediate(r));
  // The second chunk waits until stdout has taken the first.
  t.deepEqual(out, ['x'.repeat(100)]);
  t.is((err.read() as Buffer | null)?.toString(), 'oops');
  releases.shift()?.();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(out, ['x'.repeat(100), 'later']);
  releases.shift()?.();
  await finished;
});

test('a chunk of many frames to a slow output adds one drain and one close listener, not one per frame', async (t) => {
  let most = 0;
  const release: Array<() => void> = [];
  const slow = new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      most = Math.max(most, this.listenerCount('drain'), this.listenerCount('close'));
      release.push(callback);
    },
  });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const demuxer = new Demuxer(slow, undefined);
  const frames = Buffer.concat(Array.from({ length: 20 }, (_, i) => frame(1, `line ${i}\n`)));
  const done = new Promise<void>((resolve) => demuxer.write(frames, () => resolve()));
  await new Promise((resolve) => setImmediate(resolve));
  most = Math.max(most, slow.listenerCount('drain'), slow.listenerCount('close'));
  while (release.length > 0) {
    release.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  t.true(most <= 2, `at most ${most} listeners`);
  t.deepEqual(
    warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
    [],
  );
});

/** A sink that records each write it is given; `written(n)` resolves once it has had n writes. */
function recorder(): {
  sink: Writable;
  writes: string[];
  finished: Promise<void>;
  written: (n: number) => Promise<void>;
} {
  const writes: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      writes.push(chunk.toString());
      for (const w of waiters.filter((x) => x.n <= writes.length)) w.resolve();
      cb();
    },
  });
  const finished = new Promise<void>((resolve) => sink.on('finish', () => resolve()));
  const written = (n: number) =>
    writes.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
  return { sink, writes, finished, written };
}

test('the frames of one chunk for the same output leave as one write, in order', (t) => {
  const { sink, writes } = recorder();
  const d = new Demuxer(sink, sink);
  d.write(Buffer.concat([frame(1, 'a\n'), frame(2, 'b\n'), frame(1, 'c\n'), frame(0, 'in')]));
  t.deepEqual(writes, ['a\nb\nc\n']);
});

test('chunks that queued behind a slow output are parsed and written as one', async (t) => {
  const release: (() => void)[] = [];
  const writes: string[] = [];
  const slow = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _e, cb) {
      writes.push(chunk.toString());
      release.push(() => cb());
    },
  });
  const d = new Demuxer(slow, undefined);
  d.write(frame(1, 'first'));
  const two = frame(1, 'second');
  d.write(two.subarray(0, 5));
  d.write(two.subarray(5));
  d.write(frame(1, 'third'));
  const finished = new Promise((r) => d.on('finish', r));
  d.end();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(writes, ['first']);
  release.shift()?.();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(writes, ['first', 'secondthird']);
  release.shift()?.();
  await finished;
});

test('pumpJoined without a linger writes each chunk as it comes and ends the sink', async (t) => {
  const source = new PassThrough();
  const { sink, writes, finished } = recorder();
  pumpJoined(source, sink);
  source.write('a');
  source.write('b');
  source.end('c');
  await finished;
  t.deepEqual(writes, ['a', 'b', 'c']);
});

test('pumpJoined writes the first chunk at once and joins what follows within the linger', async (t) => {
  const source = new PassThrough();
  const { sink, writes, finished } = recorder();
  pumpJoined(source, sink, { lingerMs: 60_000 });
  source.write('first');
  t.deepEqual(writes, ['first'], 'a chunk after a quiet spell is not held back');
  source.write('a');
  source.write('b');
  t.deepEqual(writes, ['first']);
  // The end of the source writes what was held back, then ends the sink.
  source.end('c');
  await finished;
  t.deepEqual(writes, ['first', 'abc']);
});

test('pumpJoined writes held-back bytes once the linger is over, without more input', async (t) => {
  const source = new PassThrough();
  const { sink, writes, written } = recorder();
  pumpJoined(source, sink, { lingerMs: 5 });
  source.write('first');
  source.write('x');
  source.write('y');
  await written(2);
  t.deepEqual(writes, ['first', 'xy']);
  source.destroy();
});

test('pumpJoined writes a batch that reached batchBytes without waiting out the linger', (t) => {
  const source = new PassThrough();
  const { sink, writes } = recorder();
  pumpJoined(source, sink, { lingerMs: 60_000, batchBytes: 6 });
  source.write('first');
  source.write('abc');
  t.deepEqual(writes, ['first']);
  source.write('def');
  t.deepEqual(writes, ['first', 'abcdef']);
  source.destroy();
});

test('pumpJoined stops taking from the source while the sink is full', async (t) => {
  const source = new PassThrough({ highWaterMark: 4 });
  const release: (() => void)[] = [];
  const sink = new Writable({
    highWaterMark: 1,
    write(_chunk: Buffer, _e, cb) {
      release.push(() => cb());
    },
  });
  pumpJoined(source, sink);
  source.write('aaaa');
  t.true(source.isPaused(), 'the source is paused while the sink is full');
  release.shift()?.();
  await new Promise((r) => setImmediate(r));
  t.false(source.isPaused());
  source.destroy();
});

test('pumpJoined hands on what it held back when the source closes without an end', async (t) => {
  const source = new PassThrough();
  const { sink, writes, written } = recorder();
  pumpJoined(source, sink, { lingerMs: 60_000 });
  source.write('first');
  source.write('held');
  source.destroy();
  await written(2);
  t.deepEqual(writes, ['first', 'held']);
});
