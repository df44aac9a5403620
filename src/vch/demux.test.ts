import test from 'ava';
import { PassThrough, Writable } from 'node:stream';
import { Demuxer, FrameParser } from './demux.js';

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
