import test from 'ava';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { FakeClock } from '../../shared/fake-clock.js';
import { GoAwayStatus, RstStatus, type Frame, type SpdyHeaders } from './frames.js';
import { HeaderCodec, type HeaderInput } from './header-codec.js';
import { FrameParser } from './parser.js';
import { SpdySession, type SpdySessionOptions } from './session.js';
import type { SpdyStream } from './stream.js';
import { encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSynStream } from './writer.js';

/** Two connected in-memory sockets. */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
    });
  sides.push(
    make(() => sides[1]!),
    make(() => sides[0]!),
  );
  return [sides[0]!, sides[1]!];
}

type Received = Frame & { headers?: SpdyHeaders };

/** A bare SPDY client made of our own writer, parser and codec. */
class TestClient {
  readonly received: Received[] = [];
  readonly #socket: Duplex;
  readonly #codec = new HeaderCodec();
  #decoding: Promise<void> = Promise.resolve();
  #waiters: (() => void)[] = [];
  ended = false;

  constructor(socket: Duplex) {
    this.#socket = socket;
    const parser = new FrameParser({
      onFrame: (frame) => {
        // Decode header blocks in arrival order: they share one zlib context.
        this.#decoding = this.#decoding.then(async () => {
          const headers =
            'headerBlock' in frame ? await this.#codec.decode(frame.headerBlock, frame.streamId) : undefined;
          this.received.push({ ...frame, headers });
          this.#wake();
        });
      },
      onError: (error) => {
        throw error;
      },
    });
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('end', () => {
      void this.#decoding.then(() => {
        this.ended = true;
        this.#wake();
      });
    });
  }

  async open(streamId: number, headers: HeaderInput, fin = false): Promise<void> {
    this.#socket.write(encodeSynStream({ streamId, fin }, await this.#codec.encode(headers)));
  }

  write(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  /** Waits for a frame that matches (no timers: resolves on arrival). */
  async next(match: (frame: Received) => boolean): Promise<Received> {
    for (;;) {
      const found = this.received.find(match);
      if (found !== undefined) return found;
      if (this.ended) throw new Error('connection ended before the frame arrived');
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async untilEnd(): Promise<void> {
    while (!this.ended) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

function setup(options: SpdySessionOptions = {}) {
  const [serverSide, clientSide] = duplexPair();
  const session = new SpdySession(serverSide, options);
  const client = new TestClient(clientSide);
  const streams: SpdyStream[] = [];
  session.on('stream', (stream) => streams.push(stream));
  const nextStream = async (): Promise<SpdyStream> => {
    while (streams.length === 0) await once(session, 'stream');
    return streams.shift()!;
  };
  return { session, client, serverSide, nextStream };
}

const isType =
  <T extends Frame['type']>(type: T, streamId?: number) =>
  (frame: Received): boolean =>
    frame.type === type && (streamId === undefined || ('streamId' in frame && frame.streamId === streamId));

test('a client stream is accepted with SYN_REPLY and carries data both ways with FIN', async (t) => {
  const { client, nextStream } = setup();
  await client.open(1, { streamType: 'stdin', Port: '80' });
  const stream = await nextStream();
  t.is(stream.id, 1);
  t.is(stream.header('streamtype'), 'stdin');
  t.is(stream.header('port'), '80');
  stream.respond();
  t.truthy(await client.next(isType('syn-reply', 1)));

  client.write(encodeData(1, Buffer.from('ping'), true));
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(stream, 'end');
  t.is(Buffer.concat(chunks).toString(), 'ping');

  stream.end(Buffer.from('pong'));
  const data = await client.next((frame) => frame.type === 'data' && frame.fin);
  const all = client.received
    .filter(isType('data', 1))
    .map((frame) => (frame.type === 'data' ? frame.data : Buffer.alloc(0)));
  t.is(Buffer.concat(all).toString(), 'pong');
  t.true(data.type === 'data' && data.fin);
});

test('data consumed by the reader is granted back with WINDOW_UPDATE', async (t) => {
  const { client, nextStream } = setup();
  await client.open(1, { streamType: 'data' });
  const stream = await nextStream();
  stream.respond();
  stream.resume();
  client.write(encodeData(1, Buffer.alloc(1000, 7)));
  const update = await client.next(isType('window-update', 1));
  t.true(update.type === 'window-update' && update.delta === 1000);
});

test('PINGs from the client are echoed', async (t) => {
  const { client } = setup();
  client.write(encodePing(5));
  const pong = await client.next(isType('ping'));
  t.true(pong.type === 'ping' && pong.id === 5);
});

test('DATA for a stream never opened is answered with RST_STREAM INVALID_STREAM', async (t) => {
  const { client, session } = setup();
  const errors: string[] = [];
  session.on('protocol-error', (error) => errors.push(error.reason));
  client.write(encodeData(9, Buffer.from('stray')));
  const rst = await client.next(isType('rst-stream', 9));
  t.true(rst.type === 'rst-stream' && rst.status === RstStatus.InvalidStream);
  t.deepEqual(errors, ['UnknownStream']);
  t.false(session.destroyed, 'the session carries on');
});

test('an RST_STREAM from the client destroys only that stream', async (t) => {
  const { client, nextStream, session } = setup();
  await client.open(1, { streamType: 'data' });
  await client.open(3, { streamType: 'error' });
  const first = await nextStream();
  const second = await nextStream();
  first.respond();
  second.respond();
  client.write(encodeRstStream(1, RstStatus.Cancel));
  await once(first, 'close');
  t.true(first.destroyed);
  t.false(second.destroyed);
  t.is(session.streamCount, 1);
});

test('a malformed frame ends the session with GOAWAY and closes the connection', async (t) => {
  const { client, session, nextStream } = setup();
  await client.open(1, { streamType: 'stdout' });
  const stream = await nextStream();
  client.write(Buffer.from('80020006000000040000000100', 'hex')); // version 2
  const goaway = await client.next(isType('goaway'));
  t.true(
    goaway.type === 'goaway' && goaway.status === GoAwayStatus.ProtocolError && goaway.lastGoodStreamId === 1,
  );
  await client.untilEnd();
  t.true(stream.destroyed);
  session.destroy();
});

test('a decreasing stream id is a session error', async (t) => {
  const { client, nextStream } = setup();
  await client.open(5, { streamType: 'data' });
  await nextStream();
  await client.open(3, { streamType: 'data' });
  const goaway = await client.next(isType('goaway'));
  t.true(goaway.type === 'goaway' && goaway.status === GoAwayStatus.ProtocolError);
});

test('a full stream pauses the socket until its reader catches up', async (t) => {
  const { client, nextStream, serverSide } = setup({ streamHighWaterMark: 16 });
  await client.open(1, { streamType: 'stdin' });
  const stream = await nextStream();
  stream.respond();
  client.write(encodeData(1, Buffer.alloc(64, 1)));
  await once(stream, 'readable');
  t.true(serverSide.isPaused(), 'socket paused while nobody reads');
  stream.read();
  t.false(serverSide.isPaused(), 'socket resumed once the reader took the data');
});

test('close() sends GOAWAY only after open streams finished sending, then ends the connection', async (t) => {
  const { client, nextStream, session } = setup();
  await client.open(1, { streamType: 'stdout' });
  const stream = await nextStream();
  stream.respond();
  session.close();
  stream.write('last words');
  t.false(client.received.some(isType('goaway')));
  stream.end();
  const goaway = await client.next(isType('goaway'));
  t.true(goaway.type === 'goaway' && goaway.status === GoAwayStatus.Ok);
  const frames = client.received.map((frame) => frame.type);
  t.is(frames.at(-1), 'goaway', 'nothing follows GOAWAY');
  await client.untilEnd();
});

test('a peer that never closes is dropped after the grace period', async (t) => {
  const clock = new FakeClock();
  const { session, client } = setup({ clock, closeGraceMs: 1000 });
  session.close();
  await client.untilEnd();
  t.false(session.destroyed);
  clock.advance(1000);
  t.true(session.destroyed);
});

test('a GOAWAY from the client closes the session once streams are done', async (t) => {
  const { client, session } = setup();
  client.write(encodeGoAway(0, GoAwayStatus.Ok));
  await client.untilEnd();
  t.false(session.destroyed, 'waits for the peer to close, within the grace period');
  session.destroy();
});

test('closing reads again even when a stream nobody reads had paused the socket', async (t) => {
  const { client, nextStream, serverSide, session } = setup({ streamHighWaterMark: 16 });
  await client.open(1, { streamType: 'stdin' });
  const stream = await nextStream();
  stream.respond();
  client.write(encodeData(1, Buffer.alloc(64, 1)));
  await once(stream, 'readable');
  t.true(serverSide.isPaused());
  stream.end();
  session.close();
  await client.untilEnd();
  t.false(serverSide.isPaused());
  session.destroy();
});
