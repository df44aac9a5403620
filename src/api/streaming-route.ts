// The seam between the kubelet HTTPS server and the streaming transports (SPDY/3.1, WebSocket): which
// paths stream, what they name, and the one function the server hands an authorized upgrade to.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodRef } from '../provider/kubelet-api.js';

export type StreamingKind = 'exec' | 'attach' | 'portforward';

export interface StreamingRoute {
  kind: StreamingKind;
  pod: PodRef;
  /** Set for exec and attach; port-forward names no container. */
  container?: string;
}

/**
 * Takes over an upgrade request that the server has already authenticated and authorized. From here the
 * transport owns the socket: it answers the handshake (101, or an HTTP error) and closes it when done.
 */
export type StreamingHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  route: StreamingRoute,
) => void;

const prefixes: Record<string, StreamingKind> = {
  exec: 'exec',
  attach: 'attach',
  portForward: 'portforward',
};

/** Splits a path into decoded segments; undefined when a segment is not valid percent-encoding. */
function segments(pathname: string): string[] | undefined {
  const parts = pathname.split('/').filter((part) => part.length > 0);
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
}

/** True when the path belongs to a streaming route, whether or not the rest of it is well formed. */
export function isStreamingPath(pathname: string): boolean {
  const first = pathname.split('/')[1] ?? '';
  return first in prefixes;
}

/**
 * Parses `/exec|attach/{ns}/{pod}[/{uid}]/{container}` and `/portForward/{ns}/{pod}[/{uid}]` the way the
 * kubelet's routes do (case-sensitive); undefined for anything else.
 */
export function matchStreamingRoute(pathname: string): StreamingRoute | undefined {
  const parts = segments(pathname);
  if (!parts || parts.length === 0) return undefined;
  const [first, ...rest] = parts;
  const kind = first === undefined ? undefined : prefixes[first];
  if (!kind) return undefined;
  if (kind === 'portforward') {
    if (rest.length !== 2 && rest.length !== 3) return undefined;
    const [namespace = '', name = '', uid] = rest;
    return { kind, pod: uid === undefined ? { namespace, name } : { namespace, name, uid } };
  }
  if (rest.length !== 3 && rest.length !== 4) return undefined;
  const [namespace = '', name = ''] = rest;
  const uid = rest.length === 4 ? rest[2] : undefined;
  const container = rest[rest.length - 1] ?? '';
  return { kind, pod: uid === undefined ? { namespace, name } : { namespace, name, uid }, container };
}
