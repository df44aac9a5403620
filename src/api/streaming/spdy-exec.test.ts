import test from 'ava';
import { Duplex } from 'node:stream';
import { FakeClock } from '../../shared/fake-clock.js';
import { SpdySession } from '../spdy/session.js';
import { channelProtocolVersion, expectedStreams, serveSpdyExec } from './spdy-exec.js';
import { StreamProtocolError } from '../transport/protocol-error.js';

const options = { command: ['sh'], stdin: true, stdout: true, stderr: true, tty: false };

test('protocol names map to versions', (t) => {
  t.is(channelProtocolVersion('channel.k8s.io'), 1);
  t.is(channelProtocolVersion('v2.channel.k8s.io'), 2);
  t.is(channelProtocolVersion('v5.channel.k8s.io'), 5);
});

test('the expected streams follow the options and the version', (t) => {
  t.deepEqual([...expectedStreams(options, 4)], ['error', 'stdin', 'stdout', 'stderr']);
  const tty = { ...options, stderr: false, tty: true };
  t.deepEqual([...expectedStreams(tty, 4)], ['error', 'stdin', 'stdout', 'resize']);
  t.deepEqual([...expectedStreams(tty, 2)], ['error', 'stdin', 'stdout'], 'no resize before v3');
  t.deepEqual(
    [...expectedStreams({ ...options, stderr: true, tty: true }, 3)],
    ['error', 'stdin', 'stdout', 'resize'],
  );
});

test('a client that never opens its streams is dropped after the creation timeout', async (t) => {
  const clock = new FakeClock();
  const socket = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
  const session = new SpdySession(socket, { clock });
  const pending = serveSpdyExec(session, 'v4.channel.k8s.io', options, {
    clock,
    streamCreationTimeoutMs: 30_000,
  });
  clock.advance(29_999);
  t.false(session.destroyed);
  clock.advance(1);
  const error = await t.throwsAsync(pending, { instanceOf: StreamProtocolError });
  t.is(error?.reason, 'StreamCreationTimeout');
  t.true(session.destroyed);
});
