// The server side of one SPDY/3.1 connection: owns the client-initiated streams, the one header codec,
// the ordered outbound queue, flow control (WINDOW_UPDATE for what readers consume), PING echo, GOAWAY
// both ways, and the reaction to protocol errors (RST_STREAM for a stream, GOAWAY and close for the
// session). Works over any Duplex: a TLS socket after an HTTP Upgrade, or a WebSocket tunnel.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../../shared/clock.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { messageOf } from '../../shared/errors.js';
import {
  GoAwayStatus,
  hasHeaderBlock,
  INITIAL_WINDOW_SIZE,
  RstStatus,
  type Frame,
  type FrameOf,
  type SpdyHeaders,
} from './frames.js';
import { FrameParser, type ParserLimits } from './parser.js';
import { HeaderCodec, type HeaderCodecOptions, type HeaderInput } from './header-codec.js';
import { SpdyStream, type StreamHost } from './stream.js';
import {
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeWindowUpdate,
} from './writer.js';
import {
  protocolError,
  rstStream,
  StreamProtocolError,
  goAway,
  type ProtocolErrorReason,
} from '../transport/protocol-error.js';

export interface SpdySessionOptions {
  readonly limits?: Partial<ParserLimits> & HeaderCodecOptions;
  /** Largest DATA frame we send; bigger writes are split. */
  readonly maxOutgoingFrame?: number;
  /** Readable and writable buffer of each stream; the socket stops being read when one is full. */
  readonly streamHighWaterMark?: number;
  /** After we end the connection, how long the peer may take to close it before it is destroyed. */
  readonly closeGraceMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface SpdySessionEvents {
  /** A client opened a stream. Accept it with `respond()` or refuse it with `reset()`. */
  stream: [SpdyStream];
  /** Something malformed arrived; the wire reaction has already been sent. */
  'protocol-error': [StreamProtocolError];
  close: [];
}

type InboxItem = Frame | StreamProtocolError;

interface Outgoing {
  readonly bytes: Buffer | Promise<Buffer>;
  readonly done?: (error?: Error | null) => void;
}

/** Frames queued while a header block decompresses; past this many the socket is paused. */
const MAX_INBOX = 64;

export class SpdySession extends EventEmitter<SpdySessionEvents> {
  readonly #socket: Duplex;
  readonly #parser: FrameParser;
  readonly #codec: HeaderCodec;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxOutgoingFrame: number;
  readonly #streamHighWaterMark: number;
  readonly #closeGraceMs: number;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #host: StreamHost;

  #lastClientStreamId = 0;
  #inbox: InboxItem[] = [];
  #processing = false;
  #outbox: Outgoing[] = [];
  #pumping = false;
  #waitingForDrain: ((error?: Error | null) => void)[] = [];
  #pausedBy = new Set<unknown>();
  /** No new streams; GOAWAY goes out once every stream has finished sending. */
  #closing = false;
  #goAwaySent = false;
  #ended = false;
  #destroyed = false;
  #graceTimer: { cancel(): void } | undefined;

  constructor(socket: Duplex, options: SpdySessionOptions = {}) {
    super();
    this.#socket = socket;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#maxOutgoingFrame = options.maxOutgoingFrame ?? 32 * 1024;
    this.#streamHighWaterMark = options.streamHighWaterMark ?? INITIAL_WINDOW_SIZE;
    this.#closeGraceMs = options.closeGraceMs ?? 10_000;
    this.#codec = new HeaderCodec(options.limits);
    this.#parser = new FrameParser(
      { onFrame: (frame) => this.#enqueue(frame), onError: (error) => this.#enqueue(error) },
      options.limits,
    );
    this.#host = {
      reply: (stream, headers) => this.#reply(stream, headers),
      sendData: (stream, data, fin, done) => this.#sendData(stream, data, fin, done),
      sendReset: (stream, status) => this.#send(encodeRstStream(stream.id, status)),
      acknowledge: (stream, bytes) => this.#send(encodeWindowUpdate(stream.id, bytes)),
      drained: (stream) => this.#resumeFor(stream),
      ended: () => this.#maybeFinishClose(),
      closed: (stream) => this.#forget(stream),
    };
    socket.on('data', (chunk: Buffer) => this.#parser.push(chunk));
    socket.on('drain', () => this.#releaseWriters());
    socket.on('end', () => this.#onPeerEnd());
    socket.on('error', (error) => {
      this.#logger.debug({ err: error }, 'spdy connection error');
      this.destroy();
    });
    socket.on('close', () => this.destroy());
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Open streams, for diagnostics and tests. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /**
   * Graceful close: refuses new streams, lets open streams finish sending, then sends GOAWAY and ends
   * the connection. Go's spdystream stops reading at GOAWAY, so nothing may follow it.
   */
  close(): void {
    if (this.#closing || this.#destroyed) return;
    this.#closing = true;
    this.#maybeFinishClose();
  }

  /** Immediate teardown: streams are destroyed without further frames. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#closing = true;
    this.#parser.stop();
    this.#graceTimer?.cancel();
    for (const stream of [...this.#streams.values()]) stream.deliverReset();
    this.#streams.clear();
    this.#outbox = [];
    this.#inbox = [];
    this.#releaseWriters();
    this.#codec.close();
    this.#socket.destroy();
    this.emit('close');
  }

  // ---- inbound ----

  /**
   * Frames are handled strictly in order. Header blocks decompress asynchronously, so while one does,
   * later frames wait in the inbox; DATA on an idle session takes the fast path.
   */
  #enqueue(item: InboxItem): void {
    if (this.#destroyed) return;
    if (
      !this.#processing &&
      this.#inbox.length === 0 &&
      !(item instanceof StreamProtocolError) &&
      !hasHeaderBlock(item)
    ) {
      this.#handle(item, undefined);
      return;
    }
    this.#inbox.push(item);
    if (this.#inbox.length > MAX_INBOX) this.#pauseFor(this.#inbox);
    if (!this.#processing) void this.#processInbox();
  }

  async #processInbox(): Promise<void> {
    this.#processing = true;
    try {
      for (
        let item = this.#inbox.shift();
        item !== undefined && !this.#destroyed;
        item = this.#inbox.shift()
      ) {
        if (item instanceof StreamProtocolError) {
          this.#react(item);
        } else if (hasHeaderBlock(item)) {
          let headers: SpdyHeaders;
          try {
            headers = await this.#codec.decode(item.headerBlock, item.streamId);
          } catch (error) {
            // A SYN_STREAM refused for its headers still used up its id.
            if (item.type === 'syn-stream' && item.streamId % 2 === 1) {
              this.#lastClientStreamId = Math.max(this.#lastClientStreamId, item.streamId);
            }
            this.#react(asProtocolError(error));
            continue;
          }
          if (!this.#destroyed) this.#handle(item, headers);
        } else {
          this.#handle(item, undefined);
        }
      }
    } finally {
      this.#processing = false;
      this.#resumeFor(this.#inbox);
    }
  }

  #handle(frame: Frame, headers: SpdyHeaders | undefined): void {
    switch (frame.type) {
      case 'syn-stream':
        this.#onSynStream(frame, headers ?? {});
        return;
      case 'syn-reply':
        // We never open streams, so there is nothing a reply could answer.
        this.#streamError(frame, this.#streams.has(frame.streamId) ? 'StreamInUse' : 'UnknownStream');
        return;
      case 'headers':
        this.#onHeaders(frame);
        return;
      case 'data':
        this.#onData(frame);
        return;
      case 'rst-stream':
        this.#streams.get(frame.streamId)?.deliverReset();
        return;
      case 'ping':
        // Odd ids are the client's pings; even ones would answer ours, and we send none.
        if (frame.id % 2 === 1) this.#send(encodePing(frame.id));
        return;
      case 'goaway':
        this.#logger.debug({ status: frame.status }, 'spdy peer sent GOAWAY');
        this.#closing = true;
        this.#maybeFinishClose();
        return;
      case 'settings':
      case 'window-update':
        // Our sends are not flow-controlled (see #sendData), so the peer's window is not tracked.
        return;
    }
  }

  #onSynStream(frame: FrameOf<'syn-stream'>, headers: SpdyHeaders): void {
    if (frame.streamId % 2 === 0 || frame.streamId <= this.#lastClientStreamId) {
      this.#react(
        protocolError(
          'InvalidStreamId',
          `SYN_STREAM ${frame.streamId} after ${this.#lastClientStreamId} (client ids are odd and increase)`,
          goAway(GoAwayStatus.ProtocolError),
        ),
      );
      return;
    }
    this.#lastClientStreamId = frame.streamId;
    if (this.#closing || this.listenerCount('stream') === 0) {
      this.#send(encodeRstStream(frame.streamId, RstStatus.RefusedStream));
      return;
    }
    const stream = new SpdyStream(this.#host, {
      id: frame.streamId,
      headers,
      fin: frame.fin,
      unidirectional: frame.unidirectional,
      highWaterMark: this.#streamHighWaterMark,
    });
    if (!(stream.localEnded && stream.remoteEnded)) this.#streams.set(stream.id, stream);
    this.emit('stream', stream);
  }

  #onHeaders(frame: FrameOf<'headers'>): void {
    const stream = this.#streams.get(frame.streamId);
    if (stream === undefined) {
      this.#streamError(frame, 'UnknownStream');
      return;
    }
    if (frame.fin) stream.deliverEnd();
  }

  #onData(frame: FrameOf<'data'>): void {
    const stream = this.#streams.get(frame.streamId);
    if (stream === undefined) {
      // Frames still in flight for a stream we closed are dropped; a stream never opened is an error.
      if (frame.streamId > this.#lastClientStreamId) this.#streamError(frame, 'UnknownStream');
      return;
    }
    if (stream.remoteEnded) {
      this.#streamError(frame, 'StreamAlreadyClosed');
      return;
    }
    // After GOAWAY nobody reads any more; buffering would only grow memory.
    if (this.#ended) return;
    if (frame.data.length > 0 && !stream.deliverData(frame.data)) this.#pauseFor(stream);
    if (frame.fin) stream.deliverEnd();
  }

  #streamError(
    frame: { readonly streamId: number; readonly type: string },
    reason: ProtocolErrorReason,
  ): void {
    const status =
      reason === 'StreamInUse'
        ? RstStatus.StreamInUse
        : reason === 'StreamAlreadyClosed'
          ? RstStatus.StreamAlreadyClosed
          : RstStatus.InvalidStream;
    this.#react(
      protocolError(
        reason,
        `${frame.type} frame for stream ${frame.streamId}`,
        rstStream(frame.streamId, status),
      ),
    );
  }

  /** Sends the wire reaction a protocol error carries. */
  #react(error: StreamProtocolError): void {
    const reaction = error.reaction;
    this.#logger.debug({ err: error }, 'spdy protocol error');
    if (reaction.kind === 'rst-stream') {
      this.#send(encodeRstStream(reaction.streamId, reaction.status));
      this.#streams.get(reaction.streamId)?.deliverReset();
    } else {
      const status = reaction.kind === 'goaway' ? reaction.status : GoAwayStatus.InternalError;
      this.#parser.stop();
      for (const stream of [...this.#streams.values()]) stream.deliverReset();
      this.#closing = true;
      this.#sendGoAway(status);
      this.#endConnection();
    }
    this.emit('protocol-error', error);
  }

  #onPeerEnd(): void {
    // The peer will send nothing more: readers see the end of every stream.
    for (const stream of [...this.#streams.values()]) stream.deliverEnd();
    this.#closing = true;
    this.#maybeFinishClose();
  }

  // ---- outbound ----

  #reply(stream: SpdyStream, headers: HeaderInput): void {
    this.#send(this.#codec.encode(headers).then((block) => encodeSynReply(stream.id, block)));
  }

  /**
   * spdystream never sends WINDOW_UPDATE, so honouring SPDY/3's 64 KiB send window would stall every
   * stream after 64 KiB: our sends are not flow-controlled, the socket's own backpressure holds
   * writers back instead.
   */
  #sendData(stream: SpdyStream, data: Buffer, fin: boolean, done: (error?: Error | null) => void): void {
    if (data.length <= this.#maxOutgoingFrame) {
      this.#send(encodeData(stream.id, data, fin), done);
      return;
    }
    for (let offset = 0; offset < data.length; offset += this.#maxOutgoingFrame) {
      const end = Math.min(offset + this.#maxOutgoingFrame, data.length);
      const last = end === data.length;
      this.#send(encodeData(stream.id, data.subarray(offset, end), fin && last), last ? done : undefined);
    }
  }

  /** Writes go out in call order; a frame whose header block is still compressing holds back the rest. */
  #send(bytes: Buffer | Promise<Buffer>, done?: (error?: Error | null) => void): void {
    if (this.#destroyed || this.#goAwaySent) {
      done?.();
      return;
    }
    if (!this.#pumping && this.#outbox.length === 0 && Buffer.isBuffer(bytes)) {
      this.#write(bytes, done);
      return;
    }
    this.#outbox.push({ bytes, done });
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (let item = this.#outbox[0]; item !== undefined && !this.#destroyed; item = this.#outbox[0]) {
        let bytes: Buffer;
        try {
          bytes = await item.bytes;
        } catch (error) {
          this.#logger.warn({ err: error }, 'spdy header compression failed');
          this.destroy();
          return;
        }
        this.#outbox.shift();
        this.#write(bytes, item.done);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#ended) this.#endConnection();
  }

  #write(bytes: Buffer, done: ((error?: Error | null) => void) | undefined): void {
    const room = this.#socket.write(bytes);
    if (done === undefined) return;
    if (room) done();
    else this.#waitingForDrain.push(done);
  }

  #releaseWriters(): void {
    const waiting = this.#waitingForDrain;
    this.#waitingForDrain = [];
    for (const done of waiting) done();
  }

  #sendGoAway(status: number): void {
    if (this.#goAwaySent || this.#destroyed) return;
    this.#send(encodeGoAway(this.#lastClientStreamId, status));
    this.#goAwaySent = true;
  }

  #maybeFinishClose(): void {
    if (!this.#closing || this.#destroyed || this.#ended) return;
    for (const stream of this.#streams.values()) if (!stream.localEnded) return;
    this.#sendGoAway(GoAwayStatus.Ok);
    this.#endConnection();
  }

  /** Ends our side once everything queued is written; the peer then closes, or the grace timer does. */
  #endConnection(): void {
    this.#ended = true;
    if (this.#pumping || this.#outbox.length > 0 || this.#destroyed) return;
    if (this.#graceTimer !== undefined) return;
    // Read again even if a stream nobody reads had paused the socket: the peer's close must be seen.
    this.#pausedBy.clear();
    this.#socket.resume();
    this.#socket.end();
    this.#graceTimer = this.#clock.setTimeout(() => this.destroy(), this.#closeGraceMs);
  }

  // ---- bookkeeping ----

  #forget(stream: SpdyStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    this.#resumeFor(stream);
    this.#maybeFinishClose();
  }

  #pauseFor(reason: unknown): void {
    if (this.#pausedBy.size === 0) this.#socket.pause();
    this.#pausedBy.add(reason);
  }

  #resumeFor(reason: unknown): void {
    if (!this.#pausedBy.delete(reason) || this.#pausedBy.size > 0 || this.#destroyed) return;
    this.#socket.resume();
  }
}

function asProtocolError(error: unknown): StreamProtocolError {
  if (error instanceof StreamProtocolError) return error;
  return protocolError('BadCompression', messageOf(error), goAway(GoAwayStatus.InternalError), error);
}
