// Malformed upgrades and frames close only their own connection: a Go exec session running at the same
// time carries on and completes.
import test from 'ava';
import { once } from 'node:events';
import tls from 'node:tls';
import { FrameParser } from '../../../src/api/spdy/parser.js';
import { HeaderCodec } from '../../../src/api/spdy/header-codec.js';
import { GoAwayStatus, RstStatus, type Frame } from '../../../src/api/spdy/frames.js';
import { encodeData, encodePing, encodeSynStream } from '../../../src/api/spdy/writer.js';
import { peerBinary, startPeer } from './helpers/peer.js';
import { query } from './helpers/exec.js';
import { startStreamingServer, type StreamingServer } from './helpers/server.js';

let server: StreamingServer;

test.before(async (t) => {
  t.timeout(15 * 60_000, 'building the Go peer on a cold cache');
  await peerBinary();
  server = await startStreamingServer();
});

test.after.always(async () => {
  await server?.close();
});

interface RawConnection {
  readonly status: number;
  readonly head: string;
  readonly frames: Frame[];
  readonly socket: tls.TLSSocket;
  /** Resolves when the server has closed the connection. */
  readonly ended: Promise<void>;
  /** Resolves once a frame matching arrives. */
  next(match: (frame: Frame) => boolean): Promise<Frame>;
}

/** Sends an HTTP request over TLS by hand and parses whatever follows the response head as SPDY. */
async function rawRequest(
  headers: Record<string, string>,
  path = '/exec/default/pod/c?command=hold&output=1',
) {
  const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Length: 0'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);

  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  const parser = new FrameParser({
    onFrame: (frame) => {
      frames.push(frame);
      waiters.splice(0).forEach((wake) => wake());
    },
    onError: (error) => {
      throw error;
    },
  });
  let pending = Buffer.alloc(0);
  let head: string | undefined;
  const gotHead = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      if (head !== undefined) return parser.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = pending.subarray(0, end).toString('latin1');
      parser.push(pending.subarray(end + 4));
      resolve();
    });
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  await Promise.race([gotHead, ended]);
  const next = async (match: (frame: Frame) => boolean): Promise<Frame> => {
    let closed = false;
    void ended.then(() => {
      closed = true;
      waiters.splice(0).forEach((wake) => wake());
    });
    for (;;) {
      const found = frames.find(match);
      if (found !== undefined) return found;
      if (closed) throw new Error('closed before the frame arrived');
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? '')?.[1] ?? 0);
  return { status, head: head ?? '', frames, socket, ended, next } satisfies RawConnection;
}

const spdyHeaders = {
  Connection: 'Upgrade',
  Upgrade: 'SPDY/3.1',
  'X-Stream-Protocol-Version': 'v4.channel.k8s.io',
};

test.serial('bad upgrades and bad frames close only their own connection', async (t) => {
  // A real client-go session, kept open: its stdin stays open until the end of the test.
  const attached = once(server.events, 'attach');
  const peer = await startPeer([
    'exec',
    '--url',
    `${server.url}/exec/default/pod/c?${query({ command: 'echo', input: '1', output: '1' })}`,
    '--stdin',
    '--stdout',
  ]);
  t.deepEqual((await attached)[0], ['echo']);
  peer.stdin.write('before;');

  // No X-Stream-Protocol-Version: 400.
  const noVersion = await rawRequest({ Connection: 'Upgrade', Upgrade: 'SPDY/3.1' });
  t.is(noVersion.status, 400);
  await noVersion.ended;

  // Not an upgrade we know: 400.
  const unknownUpgrade = await rawRequest({ Connection: 'Upgrade', Upgrade: 'h2c' });
  t.is(unknownUpgrade.status, 400);
  await unknownUpgrade.ended;

  // No common version: 403 naming the versions we accept.
  const noCommon = await rawRequest({ ...spdyHeaders, 'X-Stream-Protocol-Version': 'v9.channel.k8s.io' });
  t.is(noCommon.status, 403);
  t.regex(noCommon.head, /X-Accepted-Stream-Protocol-Versions: v4\.channel\.k8s\.io/);
  await noCommon.ended;

  // A bad query: 400 before any upgrade.
  const noStreams = await rawRequest(spdyHeaders, '/exec/default/pod/c?command=ls');
  t.is(noStreams.status, 400);
  await noStreams.ended;

  // Upgraded, then a control frame of SPDY version 2: GOAWAY PROTOCOL_ERROR, connection closed.
  const badVersion = await rawRequest(spdyHeaders);
  t.is(badVersion.status, 101);
  t.regex(badVersion.head, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
  badVersion.socket.write(Buffer.from('80020006000000040000000100', 'hex'));
  const goaway = await badVersion.next((frame) => frame.type === 'goaway');
  t.true(goaway.type === 'goaway' && goaway.status === GoAwayStatus.ProtocolError);
  await badVersion.ended;

  // Upgraded, then a SYN_STREAM whose header block is not zlib: GOAWAY, connection closed.
  const badBlock = await rawRequest(spdyHeaders);
  badBlock.socket.write(encodeSynStream({ streamId: 1 }, Buffer.from('not zlib at all')));
  const goaway2 = await badBlock.next((frame) => frame.type === 'goaway');
  t.true(goaway2.type === 'goaway' && goaway2.status === GoAwayStatus.ProtocolError);
  await badBlock.ended;

  // Upgraded, then DATA for a stream never opened: only that stream is refused, PING still answered.
  const stray = await rawRequest(spdyHeaders);
  stray.socket.write(Buffer.concat([encodeData(7, Buffer.from('stray')), encodePing(1)]));
  const rst = await stray.next((frame) => frame.type === 'rst-stream');
  t.true(rst.type === 'rst-stream' && rst.streamId === 7 && rst.status === RstStatus.InvalidStream);
  t.truthy(await stray.next((frame) => frame.type === 'ping'));
  stray.socket.destroy();

  // The Go session never noticed.
  peer.stdin.end('after');
  const result = await peer.done;
  t.is(result.code, 0, result.stderr.toString());
  t.is(result.stdout.toString(), 'before;after');
});

test.serial('a client that goes away aborts its session', async (t) => {
  const aborted = once(server.events, 'aborted');
  const raw = await rawRequest(spdyHeaders, `/exec/default/pod/c?${query({ command: 'hold', output: '1' })}`);
  t.is(raw.status, 101);
  // Open the two streams v4 expects (error, stdout); then vanish.
  const codec = new HeaderCodec();
  raw.socket.write(encodeSynStream({ streamId: 1 }, await codec.encode({ streamType: 'error' })));
  raw.socket.write(encodeSynStream({ streamId: 3 }, await codec.encode({ streamType: 'stdout' })));
  await raw.next((frame) => frame.type === 'syn-reply' && frame.streamId === 3);
  raw.socket.destroy();
  t.deepEqual((await aborted)[0], ['hold']);
  codec.close();
});
