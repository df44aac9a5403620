// The SPDY/3.1 HTTP Upgrade handshake on Node's 'upgrade' event: checks the upgrade headers, negotiates
// X-Stream-Protocol-Version (the client's first offer we support), answers 101 and starts a session.
// A malformed request gets 400, no common protocol 403; either way only that socket is closed.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdySessionOptions } from './session.js';
import { httpStatus, protocolError, type StreamProtocolError } from '../transport/protocol-error.js';
import { rejectUpgrade } from '../transport/reject-upgrade.js';

export const SPDY_UPGRADE_TOKEN = 'SPDY/3.1';
export const STREAM_PROTOCOL_HEADER = 'X-Stream-Protocol-Version';
export const ACCEPTED_PROTOCOLS_HEADER = 'X-Accepted-Stream-Protocol-Versions';

export type SpdyUpgradeResult =
  | { readonly ok: true; readonly session: SpdySession; readonly protocol: string }
  | { readonly ok: false; readonly error: StreamProtocolError };

/** All values of a request header, split at commas, trimmed, empty ones dropped. */
export function headerTokens(req: IncomingMessage, name: string): string[] {
  const values = req.headersDistinct[name.toLowerCase()] ?? [];
  return values
    .flatMap((value) => value.split(','))
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return headerTokens(req, 'upgrade').some(
    (token) => token.toLowerCase() === SPDY_UPGRADE_TOKEN.toLowerCase(),
  );
}

/** The first protocol the client offers that the server supports (the client's order wins). */
export function negotiateStreamProtocol(
  offered: readonly string[],
  supported: readonly string[],
): string | undefined {
  return offered.find((protocol) => supported.includes(protocol));
}

export function upgradeToSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: { readonly protocols: readonly string[]; readonly session?: SpdySessionOptions },
): SpdyUpgradeResult {
  const refuse = (
    status: number,
    message: string,
    headers?: Record<string, readonly string[]>,
  ): SpdyUpgradeResult => {
    rejectUpgrade(socket, status, `unable to upgrade: ${message}`, headers);
    return {
      ok: false,
      error: protocolError(status === 403 ? 'NoCommonProtocol' : 'BadHandshake', message, httpStatus(status)),
    };
  };
  const connection = headerTokens(req, 'connection').map((token) => token.toLowerCase());
  if (!connection.includes('upgrade') || !isSpdyUpgrade(req)) {
    return refuse(
      400,
      `missing upgrade headers: want Connection: Upgrade and Upgrade: ${SPDY_UPGRADE_TOKEN}`,
    );
  }
  const offered = headerTokens(req, STREAM_PROTOCOL_HEADER);
  if (offered.length === 0) return refuse(400, `header ${STREAM_PROTOCOL_HEADER} is missing or empty`);
  const protocol = negotiateStreamProtocol(offered, options.protocols);
  if (protocol === undefined) {
    return refuse(
      403,
      `unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${options.protocols.join(' ')}]`,
      { [ACCEPTED_PROTOCOLS_HEADER]: options.protocols },
    );
  }
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Connection: Upgrade',
      `Upgrade: ${SPDY_UPGRADE_TOKEN}`,
      `${STREAM_PROTOCOL_HEADER}: ${protocol}`,
      '',
      '',
    ].join('\r\n'),
  );
  // Bytes that arrived with the request belong to the SPDY stream.
  if (head.length > 0) socket.unshift(head);
  return { ok: true, session: new SpdySession(socket, options.session), protocol };
}
