// The Kubernetes WebSocket channel protocols, as pure data and functions: which subprotocols exist, how
// a message names its channel (first byte, or '0'+channel then base64 text), and v5's close signal
// ([255, channel] half-closes that channel).
import { protocolError, wsClose } from '../transport/protocol-error.js';

export interface ChannelProtocol {
  /** The Sec-WebSocket-Protocol value; '' when the client offered none. */
  readonly name: string;
  readonly encoding: 'binary' | 'base64';
  /** How an exec reports its result on the error channel. */
  readonly status: 'text' | 'json';
  /** v5: [255, channel] closes a channel. */
  readonly streamClose: boolean;
}

const protocol = (
  name: string,
  encoding: ChannelProtocol['encoding'],
  status: ChannelProtocol['status'],
  streamClose = false,
): ChannelProtocol => ({ name, encoding, status, streamClose });

/** exec and attach, in the kubelet's terms; '' is binary v1 for clients that offer no subprotocol. */
export const EXEC_CHANNEL_PROTOCOLS: readonly ChannelProtocol[] = [
  protocol('v5.channel.k8s.io', 'binary', 'json', true),
  protocol('v4.channel.k8s.io', 'binary', 'json'),
  protocol('v4.base64.channel.k8s.io', 'base64', 'json'),
  protocol('channel.k8s.io', 'binary', 'text'),
  protocol('base64.channel.k8s.io', 'base64', 'text'),
  protocol('', 'binary', 'text'),
];

/** port-forward at the kubelet (pkg/kubelet/cri/streaming/portforward/websocket.go). */
export const PORT_FORWARD_CHANNEL_PROTOCOLS: readonly ChannelProtocol[] = [
  protocol('v4.channel.k8s.io', 'binary', 'text'),
  protocol('v4.base64.channel.k8s.io', 'base64', 'text'),
  protocol('', 'binary', 'text'),
];

/** SPDY carried in binary WebSocket messages (kubectl 1.31+ port-forward through the API server). */
export const SPDY_TUNNEL_PORT_FORWARD_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export const StreamChannel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4 } as const;
export const CLOSE_SIGNAL = 255;

export const CloseCode = {
  Normal: 1000,
  ProtocolError: 1002,
  InvalidData: 1007,
  InternalError: 1011,
} as const;

/** The client's first offered protocol that we support; '' stands for "offered none". */
export function negotiateChannelProtocol(
  offered: readonly string[],
  supported: readonly ChannelProtocol[],
): ChannelProtocol | undefined {
  const candidates = offered.length === 0 ? [''] : offered;
  for (const name of candidates) {
    const found = supported.find((candidate) => candidate.name === name);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface EncodedMessage {
  readonly data: Buffer | string;
  readonly binary: boolean;
}

export function encodeChannelMessage(
  protocol: ChannelProtocol,
  channel: number,
  data: Buffer,
): EncodedMessage {
  if (protocol.encoding === 'base64') {
    return { data: String.fromCharCode(48 + channel) + data.toString('base64'), binary: false };
  }
  const message = Buffer.allocUnsafe(data.length + 1);
  message[0] = channel;
  data.copy(message, 1);
  return { data: message, binary: true };
}

export type ChannelMessage =
  | { readonly kind: 'data'; readonly channel: number; readonly data: Buffer }
  | { readonly kind: 'close'; readonly channel: number };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes one client message; undefined for an empty one (ignored, as the kubelet does). */
export function decodeChannelMessage(protocol: ChannelProtocol, message: Buffer): ChannelMessage | undefined {
  if (message.length === 0) return undefined;
  const first = message[0] ?? 0;
  if (protocol.streamClose && first === CLOSE_SIGNAL) {
    if (message.length !== 2) {
      throw protocolError(
        'BadChannelMessage',
        `close signal with ${message.length - 1} bytes after it, want 1`,
        wsClose(CloseCode.ProtocolError),
      );
    }
    return { kind: 'close', channel: message[1] ?? 0 };
  }
  if (protocol.encoding === 'binary') return { kind: 'data', channel: first, data: message.subarray(1) };
  const text = message.toString('latin1', 1);
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw protocolError(
      'BadChannelMessage',
      'channel message is not valid base64',
      wsClose(CloseCode.InvalidData),
    );
  }
  return { kind: 'data', channel: first - 48, data: Buffer.from(text, 'base64') };
}
