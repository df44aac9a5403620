// Pure SPDY/3 frame encoders: arguments in, bytes out. Frames with a name/value block take it already
// compressed (see header-codec.ts), because compression state belongs to the session.
import {
  ControlType,
  Flag,
  MAX_FRAME_PAYLOAD,
  MAX_STREAM_ID,
  SPDY_VERSION,
  type Frame,
  type SettingsEntry,
} from './frames.js';

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD)
    throw new RangeError(`control frame payload of ${payload.length} bytes`);
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  frame.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  payload.copy(frame, 8);
  return frame;
}

function words(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  values.forEach((value, index) => out.writeUInt32BE(value >>> 0, index * 4));
  return out;
}

const streamIdOf = (id: number): number => id & MAX_STREAM_ID;

/** One DATA frame; callers split payloads larger than they want a frame to be. */
export function encodeData(streamId: number, data: Buffer, fin = false): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new RangeError(`DATA payload of ${data.length} bytes`);
  const frame = Buffer.allocUnsafe(8 + data.length);
  frame.writeUInt32BE(streamIdOf(streamId), 0);
  frame.writeUInt32BE((((fin ? Flag.Fin : 0) << 24) | data.length) >>> 0, 4);
  data.copy(frame, 8);
  return frame;
}

export interface SynStreamFields {
  readonly streamId: number;
  readonly associatedStreamId?: number;
  readonly priority?: number;
  readonly slot?: number;
  readonly fin?: boolean;
  readonly unidirectional?: boolean;
}

export function encodeSynStream(fields: SynStreamFields, headerBlock: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamIdOf(fields.streamId), 0);
  fixed.writeUInt32BE(streamIdOf(fields.associatedStreamId ?? 0), 4);
  fixed[8] = ((fields.priority ?? 0) & 0x7) << 5;
  fixed[9] = fields.slot ?? 0;
  const flags =
    (fields.fin === true ? Flag.Fin : 0) | (fields.unidirectional === true ? Flag.Unidirectional : 0);
  return controlFrame(ControlType.SynStream, flags, Buffer.concat([fixed, headerBlock]));
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return controlFrame(
    ControlType.SynReply,
    fin ? Flag.Fin : 0,
    Buffer.concat([words(streamIdOf(streamId)), headerBlock]),
  );
}

export function encodeHeaders(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return controlFrame(
    ControlType.Headers,
    fin ? Flag.Fin : 0,
    Buffer.concat([words(streamIdOf(streamId)), headerBlock]),
  );
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(ControlType.RstStream, 0, words(streamIdOf(streamId), status));
}

export function encodeSettings(entries: readonly SettingsEntry[], clearPrevious = false): Buffer {
  const payload = Buffer.allocUnsafe(4 + entries.length * 8);
  payload.writeUInt32BE(entries.length, 0);
  entries.forEach((entry, index) => {
    payload.writeUInt32BE((((entry.flags & 0xff) << 24) | (entry.id & 0xffffff)) >>> 0, 4 + index * 8);
    payload.writeUInt32BE(entry.value >>> 0, 8 + index * 8);
  });
  return controlFrame(ControlType.Settings, clearPrevious ? Flag.ClearSettings : 0, payload);
}

export function encodePing(id: number): Buffer {
  return controlFrame(ControlType.Ping, 0, words(id));
}

export function encodeGoAway(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(ControlType.GoAway, 0, words(streamIdOf(lastGoodStreamId), status));
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return controlFrame(ControlType.WindowUpdate, 0, words(streamIdOf(streamId), delta & MAX_STREAM_ID));
}

/** Encodes any parsed frame back to bytes (header blocks are copied as they are). */
export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case 'data':
      return encodeData(frame.streamId, frame.data, frame.fin);
    case 'syn-stream':
      return encodeSynStream(frame, frame.headerBlock);
    case 'syn-reply':
      return encodeSynReply(frame.streamId, frame.headerBlock, frame.fin);
    case 'headers':
      return encodeHeaders(frame.streamId, frame.headerBlock, frame.fin);
    case 'rst-stream':
      return encodeRstStream(frame.streamId, frame.status);
    case 'settings':
      return encodeSettings(frame.entries, frame.clearPrevious);
    case 'ping':
      return encodePing(frame.id);
    case 'goaway':
      return encodeGoAway(frame.lastGoodStreamId, frame.status);
    case 'window-update':
      return encodeWindowUpdate(frame.streamId, frame.delta);
  }
}
