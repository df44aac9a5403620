// The SPDY/3 frame parser: bytes in, frames out, no socket. An explicit state machine (frame header,
// payload, discard, failed) where input split anywhere is the normal case. Limits are checked as soon
// as a frame header arrives, before its payload is buffered.
import {
  ControlType,
  Flag,
  FRAME_HEADER_LENGTH,
  GoAwayStatus,
  MAX_FRAME_PAYLOAD,
  MAX_STREAM_ID,
  RstStatus,
  SPDY_VERSION,
  type Frame,
  type SettingsEntry,
} from './frames.js';
import {
  goAway,
  protocolError,
  rstStream,
  type ProtocolErrorReason,
  type StreamProtocolError,
} from '../transport/protocol-error.js';

export interface ParserLimits {
  /** Longest control frame payload accepted. Longer ones end the session: a header block cannot be
   * skipped without desynchronising the shared zlib context. */
  readonly maxControlFrameLength: number;
  /** Longest DATA frame payload accepted. Longer ones reset only their stream, and are skipped. */
  readonly maxDataFrameLength: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  maxControlFrameLength: 1024 * 1024,
  // spdystream writes whatever io.Copy hands it (32 KiB in practice) in one frame; accept the
  // protocol's ceiling by default, tests and operators can lower it.
  maxDataFrameLength: MAX_FRAME_PAYLOAD,
};

export interface FrameSink {
  onFrame(frame: Frame): void;
  /** A stream error (reaction rst-stream: parsing goes on) or a session error (goaway: parsing stops). */
  onError(error: StreamProtocolError): void;
}

interface FrameHeader {
  readonly control: boolean;
  /** Control frames only. */
  readonly version: number;
  readonly type: number;
  readonly streamId: number;
  readonly flags: number;
  readonly length: number;
}

type State =
  | { readonly kind: 'header' }
  | { readonly kind: 'payload'; readonly header: FrameHeader }
  | { readonly kind: 'discard'; readonly remaining: number }
  | { readonly kind: 'failed' };

/** Payload lengths that control frames must have exactly, or at least. */
const EXACT_LENGTH: Readonly<Record<number, number>> = {
  [ControlType.RstStream]: 8,
  [ControlType.Ping]: 4,
  [ControlType.GoAway]: 8,
  [ControlType.WindowUpdate]: 8,
};
const MIN_LENGTH: Readonly<Record<number, number>> = {
  [ControlType.SynStream]: 10,
  [ControlType.SynReply]: 4,
  [ControlType.Headers]: 4,
  [ControlType.Settings]: 4,
};

const KNOWN_CONTROL_TYPES: ReadonlySet<number> = new Set(Object.values(ControlType));

const sessionError = (reason: ProtocolErrorReason, message: string): StreamProtocolError =>
  protocolError(reason, message, goAway(GoAwayStatus.ProtocolError));

export class FrameParser {
  readonly #sink: FrameSink;
  readonly #limits: ParserLimits;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #state: State = { kind: 'header' };

  constructor(sink: FrameSink, limits: Partial<ParserLimits> = {}) {
    this.#sink = sink;
    this.#limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  get failed(): boolean {
    return this.#state.kind === 'failed';
  }

  /** Stops parsing for good (the session is going away); buffered bytes are dropped. */
  stop(): void {
    this.#state = { kind: 'failed' };
    this.#chunks = [];
    this.#buffered = 0;
  }

  push(chunk: Buffer): void {
    if (this.#state.kind === 'failed' || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    // The sink may stop the parser from inside a callback, so the state is re-read every turn.
    for (;;) {
      const state = this.#state;
      switch (state.kind) {
        case 'failed':
          return;
        case 'header':
          if (this.#buffered < FRAME_HEADER_LENGTH) return;
          this.#state = this.#onHeader(decodeHeader(this.#take(FRAME_HEADER_LENGTH)));
          break;
        case 'payload':
          if (this.#buffered < state.header.length) return;
          this.#state = { kind: 'header' };
          this.#onPayload(state.header, this.#take(state.header.length));
          break;
        case 'discard': {
          const skipped = Math.min(state.remaining, this.#buffered);
          this.#skip(skipped);
          if (skipped < state.remaining) {
            this.#state = { kind: 'discard', remaining: state.remaining - skipped };
            return;
          }
          this.#state = { kind: 'header' };
          break;
        }
      }
    }
  }

  #fail(error: StreamProtocolError): State {
    this.stop();
    this.#sink.onError(error);
    return { kind: 'failed' };
  }

  #onHeader(header: FrameHeader): State {
    if (!header.control) {
      if (header.streamId === 0) return this.#fail(sessionError('InvalidStreamId', 'DATA frame on stream 0'));
      if (header.length > this.#limits.maxDataFrameLength) {
        this.#sink.onError(
          protocolError(
            'FrameTooLarge',
            `DATA frame of ${header.length} bytes exceeds ${this.#limits.maxDataFrameLength}`,
            rstStream(header.streamId, RstStatus.FrameTooLarge),
          ),
        );
        return this.#afterError({ kind: 'discard', remaining: header.length });
      }
      return { kind: 'payload', header };
    }
    if (header.version !== SPDY_VERSION) {
      return this.#fail(
        sessionError('UnsupportedVersion', `control frame of SPDY version ${header.version}`),
      );
    }
    // Unknown control frames (CREDENTIAL, NOOP of older drafts) must be ignored; they never carry a
    // header block, so skipping them keeps the zlib context intact.
    if (!KNOWN_CONTROL_TYPES.has(header.type)) return { kind: 'discard', remaining: header.length };
    if (header.length > this.#limits.maxControlFrameLength) {
      return this.#fail(
        sessionError(
          'FrameTooLarge',
          `control frame of ${header.length} bytes exceeds ${this.#limits.maxControlFrameLength}`,
        ),
      );
    }
    const exact = EXACT_LENGTH[header.type];
    const min = MIN_LENGTH[header.type] ?? 0;
    if ((exact !== undefined && header.length !== exact) || header.length < min) {
      return this.#fail(
        sessionError('InvalidFrameLength', `control frame type ${header.type} with length ${header.length}`),
      );
    }
    return { kind: 'payload', header };
  }

  /** After a stream error raised from inside the sink, the sink may have stopped the parser. */
  #afterError(next: State): State {
    return this.#state.kind === 'failed' ? this.#state : next;
  }

  #onPayload(header: FrameHeader, payload: Buffer): void {
    const fin = (header.flags & Flag.Fin) !== 0;
    if (!header.control) {
      this.#sink.onFrame({ type: 'data', streamId: header.streamId, fin, data: payload });
      return;
    }
    const frame = this.#decodeControl(header, payload, fin);
    if (frame === undefined) return;
    this.#sink.onFrame(frame);
  }

  #decodeControl(header: FrameHeader, payload: Buffer, fin: boolean): Frame | undefined {
    const streamId = payload.readUInt32BE(0) & MAX_STREAM_ID;
    const needsStream = (): boolean => {
      if (streamId !== 0) return true;
      this.#fail(sessionError('InvalidStreamId', `control frame type ${header.type} on stream 0`));
      return false;
    };
    switch (header.type) {
      case ControlType.SynStream:
        if (!needsStream()) return undefined;
        return {
          type: 'syn-stream',
          streamId,
          associatedStreamId: payload.readUInt32BE(4) & MAX_STREAM_ID,
          priority: (payload[8] ?? 0) >> 5,
          slot: payload[9] ?? 0,
          fin,
          unidirectional: (header.flags & Flag.Unidirectional) !== 0,
          headerBlock: payload.subarray(10),
        };
      case ControlType.SynReply:
        if (!needsStream()) return undefined;
        return { type: 'syn-reply', streamId, fin, headerBlock: payload.subarray(4) };
      case ControlType.Headers:
        if (!needsStream()) return undefined;
        return { type: 'headers', streamId, fin, headerBlock: payload.subarray(4) };
      case ControlType.RstStream:
        if (!needsStream()) return undefined;
        return { type: 'rst-stream', streamId, status: payload.readUInt32BE(4) };
      case ControlType.Settings:
        return this.#decodeSettings(header, payload);
      case ControlType.Ping:
        return { type: 'ping', id: payload.readUInt32BE(0) };
      case ControlType.GoAway:
        return { type: 'goaway', lastGoodStreamId: streamId, status: payload.readUInt32BE(4) };
      case ControlType.WindowUpdate:
        // Stream 0 is SPDY/3.1's session-wide window, so it is allowed here.
        return { type: 'window-update', streamId, delta: payload.readUInt32BE(4) & MAX_STREAM_ID };
      default:
        return undefined;
    }
  }

  #decodeSettings(header: FrameHeader, payload: Buffer): Frame | undefined {
    const count = payload.readUInt32BE(0);
    if (payload.length !== 4 + 8 * count) {
      this.#fail(
        sessionError('InvalidFrameLength', `SETTINGS with ${count} entries in ${payload.length} bytes`),
      );
      return undefined;
    }
    const entries: SettingsEntry[] = [];
    for (let offset = 4; offset < payload.length; offset += 8) {
      const word = payload.readUInt32BE(offset);
      entries.push({ flags: word >>> 24, id: word & 0xffffff, value: payload.readUInt32BE(offset + 4) });
    }
    return { type: 'settings', clearPrevious: (header.flags & Flag.ClearSettings) !== 0, entries };
  }

  /** Removes n buffered bytes and returns them, without copying when one chunk holds them all. */
  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) throw new Error('parser buffer accounting is broken');
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }

  #skip(n: number): void {
    let left = n;
    this.#buffered -= n;
    while (left > 0) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) throw new Error('parser buffer accounting is broken');
      if (chunk.length <= left) {
        left -= chunk.length;
        this.#chunks.shift();
      } else {
        this.#chunks[0] = chunk.subarray(left);
        left = 0;
      }
    }
  }
}

function decodeHeader(bytes: Buffer): FrameHeader {
  const first = bytes.readUInt32BE(0);
  const second = bytes.readUInt32BE(4);
  const flags = second >>> 24;
  const length = second & 0xffffff;
  if ((first & 0x80000000) !== 0) {
    return {
      control: true,
      version: (first >>> 16) & 0x7fff,
      type: first & 0xffff,
      streamId: 0,
      flags,
      length,
    };
  }
  return { control: false, version: 0, type: 0, streamId: first & MAX_STREAM_ID, flags, length };
}
