// Protocol errors of the streaming transports (SPDY/3.1 and the WebSocket channel protocols): one class
// with a stable reason and the wire reaction, i.e. what the transport sends before it drops the stream
// or the connection. Built here and nowhere else, so every malformed input gets the same answer.
import { VicError } from '../../shared/errors.js';

/** What goes on the wire when the error is detected. */
export type WireReaction =
  /** SPDY stream error: RST_STREAM with this status; the session carries on. */
  | { readonly kind: 'rst-stream'; readonly streamId: number; readonly status: number }
  /** SPDY session error: GOAWAY with this status, then the connection is closed. */
  | { readonly kind: 'goaway'; readonly status: number }
  /** WebSocket: close the connection with this close code. */
  | { readonly kind: 'ws-close'; readonly code: number }
  /** Before any upgrade: answer with this HTTP status and close the socket. */
  | { readonly kind: 'http'; readonly status: number };

export type ProtocolErrorReason =
  | 'BadHandshake'
  | 'NoCommonProtocol'
  | 'UnsupportedVersion'
  | 'InvalidFrameLength'
  | 'FrameTooLarge'
  | 'InvalidStreamId'
  | 'UnknownStream'
  | 'StreamAlreadyClosed'
  | 'StreamInUse'
  | 'HeaderBlockTooLarge'
  | 'BadHeaderBlock'
  | 'BadCompression'
  | 'UnexpectedStream'
  | 'StreamCreationTimeout'
  | 'BadChannelMessage';

export class StreamProtocolError extends VicError {
  readonly reason: ProtocolErrorReason;
  readonly reaction: WireReaction;

  constructor(reason: ProtocolErrorReason, message: string, reaction: WireReaction, cause?: unknown) {
    super('ProtocolError', message, { cause, details: { reason, reaction } });
    this.name = 'StreamProtocolError';
    this.reason = reason;
    this.reaction = reaction;
  }
}

/** The one factory: every transport builds its protocol errors through here. */
export function protocolError(
  reason: ProtocolErrorReason,
  message: string,
  reaction: WireReaction,
  cause?: unknown,
): StreamProtocolError {
  return new StreamProtocolError(reason, message, reaction, cause);
}

export const rstStream = (streamId: number, status: number): WireReaction => ({
  kind: 'rst-stream',
  streamId,
  status,
});
export const goAway = (status: number): WireReaction => ({ kind: 'goaway', status });
export const wsClose = (code: number): WireReaction => ({ kind: 'ws-close', code });
export const httpStatus = (status: number): WireReaction => ({ kind: 'http', status });
