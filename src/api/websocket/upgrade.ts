// The WebSocket side of an HTTP Upgrade, with ws in noServer mode: the caller has already picked the
// subprotocol (the client's first offer we support), ws does the RFC 6455 handshake and answers 400 to
// a malformed one itself.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { headerTokens } from '../spdy/upgrade.js';

/** Large enough for any client's stdin chunk or tunnelled SPDY frame, small enough to bound memory. */
export const MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return headerTokens(req, 'upgrade').some((token) => token.toLowerCase() === 'websocket');
}

export function offeredSubprotocols(req: IncomingMessage): string[] {
  return headerTokens(req, 'sec-websocket-protocol');
}

/**
 * Completes the handshake with `protocol` ('' answers without a subprotocol). Resolves undefined when
 * ws refused the handshake (it has answered and closed the socket by then).
 */
export function upgradeToWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  protocol: string,
): Promise<WebSocket | undefined> {
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: MAX_MESSAGE_SIZE,
  });
  // The protocol is already negotiated, and ws would refuse SPDY/3.1+portforward.k8s.io, whose '/' is
  // no token character: take the offer out of ws's hands and answer with the chosen protocol ourselves.
  delete req.headers['sec-websocket-protocol'];
  if (protocol !== '') {
    server.once('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
  }
  return new Promise((resolve) => {
    const onClose = (): void => resolve(undefined);
    socket.once('close', onClose);
    server.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', onClose);
      resolve(ws);
    });
  });
}
