// Straight to a running vic-kubelet's HTTPS port, bypassing the API server: plain requests and raw
// upgrade requests with no credentials, a bearer token, or the API server's kubelet client certificate.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { fetchText, type Reply } from '../../src/api/testing/http-client.js';
import { testEnv } from './env.js';

/** Who knocks: nobody, a bearer token, or the API server with its kubelet client certificate. */
export type KubeletAuth = 'none' | 'apiserver' | { token: string };

function tlsFor(auth: KubeletAuth): { cert?: Buffer; key?: Buffer; rejectUnauthorized: false } {
  if (auth !== 'apiserver') return { rejectUnauthorized: false };
  return {
    cert: readFileSync(join(testEnv.pkiDir, 'apiserver-kubelet-client.crt')),
    key: readFileSync(join(testEnv.pkiDir, 'apiserver-kubelet-client.key')),
    rejectUnauthorized: false,
  };
}

function authHeaders(auth: KubeletAuth): Record<string, string> {
  return typeof auth === 'object' ? { Authorization: `Bearer ${auth.token}` } : {};
}

export function kubeletRequest(
  port: number,
  method: string,
  path: string,
  auth: KubeletAuth,
): Promise<Reply> {
  return fetchText({ port, https: true, tls: tlsFor(auth) }, method, path, authHeaders(auth));
}

export const spdyUpgradeHeaders: Record<string, string> = {
  Connection: 'Upgrade',
  Upgrade: 'SPDY/3.1',
  'X-Stream-Protocol-Version': 'v4.channel.k8s.io',
};

export function webSocketUpgradeHeaders(protocol = 'v4.channel.k8s.io'): Record<string, string> {
  return {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Protocol': protocol,
  };
}

export interface RawConnection {
  /** The response status, 0 when the server closed the connection without answering. */
  readonly status: number;
  readonly head: string;
  readonly socket: TLSSocket;
  /** Everything received after the response head so far. */
  rest(): Buffer;
  /** Resolves once the server has closed the connection. */
  readonly closed: Promise<void>;
}

/** Sends one request by hand over TLS and resolves once the response head (or the close) arrives. */
export async function rawRequest(
  port: number,
  options: { method: string; path: string; headers: Record<string, string>; auth: KubeletAuth },
): Promise<RawConnection> {
  const socket = connect({ host: '127.0.0.1', port, ...tlsFor(options.auth) });
  socket.on('error', () => undefined);
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'secureConnect');
  const lines = [`${options.method} ${options.path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries({ ...options.headers, ...authHeaders(options.auth) })) {
    lines.push(`${name}: ${value}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);

  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  const headEnd = () => received.indexOf('\r\n\r\n');
  while (headEnd() < 0) {
    const more = await Promise.race([once(socket, 'data').then(() => true), closed.then(() => false)]);
    if (!more) break;
  }
  const end = headEnd();
  const head = end < 0 ? '' : received.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, socket, rest: () => received.subarray(end < 0 ? 0 : end + 4), closed };
}

export interface LoggedUpgrade {
  kind: string;
  transport: string | undefined;
  offered: string[];
  path: string;
}

/** The streaming upgrades a vic-kubelet logged (at debug level), from its output. */
export function loggedUpgrades(output: string): LoggedUpgrade[] {
  const upgrades: LoggedUpgrade[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"streaming upgrade"')) continue;
    try {
      upgrades.push(JSON.parse(line) as LoggedUpgrade);
    } catch {
      // A line cut short by the output buffer's trimming.
    }
  }
  return upgrades;
}
