// One SPDY stream as a Node Duplex: what the peer sends is readable, what we write goes out as DATA
// frames. Half-close both ways (FIN), reset (RST_STREAM), and backpressure handed to the session that
// owns the stream. The stream never emits 'error' for things the peer does: a reset or a lost
// connection destroys it quietly, writes after that are dropped.
import { Duplex } from 'node:stream';
import { RstStatus, type SpdyHeaders } from './frames.js';
import { headerValue, type HeaderInput } from './header-codec.js';

/** What a stream needs from its session. */
export interface StreamHost {
  reply(stream: SpdyStream, headers: HeaderInput): void;
  /** Sends data (split into frames as needed); `done` runs once the socket can take more. */
  sendData(stream: SpdyStream, data: Buffer, fin: boolean, done: (error?: Error | null) => void): void;
  sendReset(stream: SpdyStream, status: number): void;
  /** The reader consumed `bytes`: grant them back to the peer (WINDOW_UPDATE). */
  acknowledge(stream: SpdyStream, bytes: number): void;
  /** The readable buffer has room again. */
  drained(stream: SpdyStream): void;
  /** We sent FIN: nothing more goes out on this stream. */
  ended(stream: SpdyStream): void;
  /** Closed both ways, or reset: the session forgets the stream. */
  closed(stream: SpdyStream): void;
}

export interface StreamInit {
  readonly id: number;
  readonly headers: SpdyHeaders;
  /** The SYN_STREAM carried FIN: the peer sends nothing more. */
  readonly fin: boolean;
  /** The SYN_STREAM was unidirectional: we may not send (nor reply). */
  readonly unidirectional: boolean;
  readonly highWaterMark: number;
}

const EMPTY = Buffer.alloc(0);

export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  readonly #host: StreamHost;
  #replied: boolean;
  #remoteEnded = false;
  #localEnded: boolean;
  #reset = false;
  #unacknowledged = 0;
  #full = false;

  constructor(host: StreamHost, init: StreamInit) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: init.highWaterMark,
      writableHighWaterMark: init.highWaterMark,
    });
    this.#host = host;
    this.id = init.id;
    this.headers = init.headers;
    this.#replied = init.unidirectional;
    this.#localEnded = init.unidirectional;
    if (init.fin) this.deliverEnd();
  }

  /** First value of a request header (names are case-insensitive). */
  header(name: string): string | undefined {
    return headerValue(this.headers, name);
  }

  get replied(): boolean {
    return this.#replied;
  }

  /** True once we sent FIN (or may not send at all). */
  get localEnded(): boolean {
    return this.#localEnded || this.#reset;
  }

  /** True once the peer sent FIN. */
  get remoteEnded(): boolean {
    return this.#remoteEnded;
  }

  get isReset(): boolean {
    return this.#reset;
  }

  /** Accepts the stream (SYN_REPLY). Writing data replies implicitly. */
  respond(headers: HeaderInput = {}): void {
    if (this.#replied || this.#reset) return;
    this.#replied = true;
    this.#host.reply(this, headers);
  }

  /** Aborts the stream both ways with RST_STREAM. */
  reset(status: number = RstStatus.Cancel): void {
    if (!this.#reset) {
      this.#reset = true;
      this.#host.sendReset(this, status);
    }
    this.destroy();
  }

  // ---- called by the session ----

  /** Returns false when the readable buffer is full: the session stops reading the socket. */
  deliverData(data: Buffer): boolean {
    if (this.#remoteEnded || this.#reset) return true;
    this.#unacknowledged += data.length;
    const room = this.push(data);
    if (room) this.#acknowledge();
    else this.#full = true;
    return room;
  }

  deliverEnd(): void {
    if (this.#remoteEnded) return;
    this.#remoteEnded = true;
    this.push(null);
    this.#maybeClosed();
  }

  /** The peer reset the stream, or the session is gone: no frame is sent back. */
  deliverReset(): void {
    this.#reset = true;
    this.destroy();
  }

  // ---- Duplex implementation ----

  override _read(): void {
    this.#acknowledge();
    if (this.#full) {
      this.#full = false;
      this.#host.drained(this);
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.localEnded) {
      callback();
      return;
    }
    this.respond();
    this.#host.sendData(this, chunk, false, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.localEnded) {
      callback();
      return;
    }
    this.respond();
    this.#localEnded = true;
    this.#host.sendData(this, EMPTY, true, (error) => {
      callback(error);
      this.#host.ended(this);
      this.#maybeClosed();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#reset && !(this.#localEnded && this.#remoteEnded)) {
      this.#reset = true;
      this.#host.sendReset(this, RstStatus.Cancel);
    }
    this.#host.closed(this);
    callback(error);
  }

  #acknowledge(): void {
    if (this.#unacknowledged === 0 || this.#reset) return;
    const bytes = this.#unacknowledged;
    this.#unacknowledged = 0;
    this.#host.acknowledge(this, bytes);
  }

  /** Closed both ways on the wire: the session may forget it even if nobody reads the end. */
  #maybeClosed(): void {
    if (this.#localEnded && this.#remoteEnded) this.#host.closed(this);
  }
}
