// One WebSocket carrying numbered channels as Node streams: incoming messages are routed to the
// channel's readable side, writes go out as messages on that channel. Backpressure both ways: a full
// channel pauses the WebSocket, a write completes when ws has handed the message to the socket. Like
// the SPDY stream, a channel never emits 'error' because of the peer: after the connection is gone,
// reads end and writes are dropped.
import { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { StreamProtocolError } from '../transport/protocol-error.js';
import {
  CloseCode,
  decodeChannelMessage,
  encodeChannelMessage,
  type ChannelProtocol,
} from './channel-codec.js';

export class ChannelDuplex extends Duplex {
  readonly channel: number;
  readonly #connection: ChannelConnection;
  #full = false;

  constructor(connection: ChannelConnection, channel: number) {
    super({ allowHalfOpen: true });
    this.#connection = connection;
    this.channel = channel;
  }

  /** Called by the connection; false when the readable buffer is full. */
  deliver(data: Buffer): boolean {
    if (this.readableEnded || this.destroyed) return true;
    const room = this.push(data);
    if (!room) this.#full = true;
    return room;
  }

  deliverEnd(): void {
    if (!this.destroyed) this.push(null);
  }

  override _read(): void {
    if (!this.#full) return;
    this.#full = false;
    this.#connection.drained(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#connection.send(this.channel, chunk).then(() => callback(), callback);
  }

  // Ending a channel puts nothing on the wire: only v5 clients may half-close, servers never do.
  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }
}

export class ChannelConnection {
  readonly #ws: WebSocket;
  readonly #protocol: ChannelProtocol;
  readonly #logger: Logger;
  readonly #channels = new Map<number, ChannelDuplex>();
  readonly #pausedBy = new Set<ChannelDuplex>();
  readonly closed: Promise<void>;

  constructor(ws: WebSocket, protocol: ChannelProtocol, logger: Logger = silentLogger) {
    this.#ws = ws;
    this.#protocol = protocol;
    this.#logger = logger;
    this.closed = new Promise((resolve) => {
      ws.once('close', () => {
        for (const channel of this.#channels.values()) channel.deliverEnd();
        resolve();
      });
    });
    ws.on('message', (data: RawData) => this.#onMessage(toBuffer(data)));
    ws.on('error', (error) => this.#logger.debug({ err: error }, 'websocket error'));
  }

  get protocol(): ChannelProtocol {
    return this.#protocol;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === this.#ws.OPEN;
  }

  /** The stream of one channel; messages for channels never opened are dropped. */
  open(channel: number): ChannelDuplex {
    let stream = this.#channels.get(channel);
    if (stream === undefined) {
      stream = new ChannelDuplex(this, channel);
      this.#channels.set(channel, stream);
    }
    return stream;
  }

  /** Resolves once ws has written the message; after the connection is gone the data is dropped. */
  send(channel: number, data: Buffer): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    const message = encodeChannelMessage(this.#protocol, channel, data);
    return new Promise((resolve) => {
      this.#ws.send(message.data, { binary: message.binary }, (error) => {
        if (error) this.#logger.debug({ err: error, channel }, 'websocket send failed');
        resolve();
      });
    });
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.#ws.readyState === this.#ws.CLOSED || this.#ws.readyState === this.#ws.CLOSING) return;
    // A channel nobody reads may have paused the socket; the client's close frame must still be read.
    this.#pausedBy.clear();
    this.#ws.resume();
    this.#ws.close(code, reason.slice(0, 120));
  }

  /** A channel's reader caught up. */
  drained(channel: ChannelDuplex): void {
    if (this.#pausedBy.delete(channel) && this.#pausedBy.size === 0) this.#ws.resume();
  }

  #onMessage(message: Buffer): void {
    let decoded;
    try {
      decoded = decodeChannelMessage(this.#protocol, message);
    } catch (error) {
      if (!(error instanceof StreamProtocolError) || error.reaction.kind !== 'ws-close') throw error;
      this.#logger.debug({ err: error }, 'websocket protocol error');
      this.close(error.reaction.code, error.message);
      return;
    }
    if (decoded === undefined || !this.isOpen) return;
    const channel = this.#channels.get(decoded.channel);
    if (channel === undefined) return;
    if (decoded.kind === 'close') {
      channel.deliverEnd();
      return;
    }
    if (decoded.data.length > 0 && !channel.deliver(decoded.data)) {
      if (this.#pausedBy.size === 0) this.#ws.pause();
      this.#pausedBy.add(channel);
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
