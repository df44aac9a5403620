// The SPDY/3 frame model: frame types, flags, status codes and the decoded frame union that the parser
// produces and the writer encodes. Plain data, no I/O.

export const SPDY_VERSION = 3;

/** Every frame starts with 8 bytes: control bit, version and type (or stream id), flags and length. */
export const FRAME_HEADER_LENGTH = 8;

/** Lengths are 24 bits: the protocol's own ceiling for one frame's payload. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export const ControlType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const Flag = {
  /** Last frame the sender sends on this stream (half-close). */
  Fin: 0x01,
  /** SYN_STREAM only: the recipient may not send on this stream. */
  Unidirectional: 0x02,
  /** SETTINGS only: forget previously persisted settings. */
  ClearSettings: 0x01,
} as const;

export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

export const GoAwayStatus = {
  Ok: 0,
  ProtocolError: 1,
  InternalError: 2,
} as const;

export const SettingsId = {
  UploadBandwidth: 1,
  DownloadBandwidth: 2,
  RoundTripTime: 3,
  MaxConcurrentStreams: 4,
  CurrentCwnd: 5,
  DownloadRetransRate: 6,
  InitialWindowSize: 7,
  ClientCertificateVectorSize: 8,
} as const;

/** The initial per-stream flow-control window of SPDY/3 (64 KiB). */
export const INITIAL_WINDOW_SIZE = 64 * 1024;

/**
 * A decoded name/value block. Names are lower case; a name with several values (NUL-separated on the
 * wire) has several entries.
 */
export type SpdyHeaders = Readonly<Record<string, readonly string[]>>;

export interface SettingsEntry {
  readonly id: number;
  readonly flags: number;
  readonly value: number;
}

/**
 * Frames as the parser emits them. Frames that carry a name/value block hold it still compressed in
 * `headerBlock`: decompression needs the session's one zlib context, which is asynchronous in Node.
 */
export type Frame =
  | { readonly type: 'data'; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
  | {
      readonly type: 'syn-stream';
      readonly streamId: number;
      readonly associatedStreamId: number;
      readonly priority: number;
      readonly slot: number;
      readonly fin: boolean;
      readonly unidirectional: boolean;
      readonly headerBlock: Buffer;
    }
  | {
      readonly type: 'syn-reply';
      readonly streamId: number;
      readonly fin: boolean;
      readonly headerBlock: Buffer;
    }
  | { readonly type: 'rst-stream'; readonly streamId: number; readonly status: number }
  | { readonly type: 'settings'; readonly clearPrevious: boolean; readonly entries: readonly SettingsEntry[] }
  | { readonly type: 'ping'; readonly id: number }
  | { readonly type: 'goaway'; readonly lastGoodStreamId: number; readonly status: number }
  | {
      readonly type: 'headers';
      readonly streamId: number;
      readonly fin: boolean;
      readonly headerBlock: Buffer;
    }
  | { readonly type: 'window-update'; readonly streamId: number; readonly delta: number };

export type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;

/** Frames whose payload ends in a compressed name/value block. */
export type HeaderFrame = FrameOf<'syn-stream' | 'syn-reply' | 'headers'>;

export function hasHeaderBlock(frame: Frame): frame is HeaderFrame {
  return frame.type === 'syn-stream' || frame.type === 'syn-reply' || frame.type === 'headers';
}

/** Stream ids are 31 bits; clients open odd ones, servers even ones. */
export const MAX_STREAM_ID = 0x7fffffff;
