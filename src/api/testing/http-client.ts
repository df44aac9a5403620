// Small HTTP(S) helpers for tests of the kubelet API: a whole response, or a streaming one read chunk by
// chunk, against a server on loopback.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Target {
  port: number;
  https?: boolean;
  /** TLS client options: cert, key, ca, rejectUnauthorized. */
  tls?: Pick<RequestOptions, 'cert' | 'key' | 'ca' | 'rejectUnauthorized' | 'servername'>;
}

export function open(
  target: Target,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port: target.port, method, path, headers, agent: false as const };
    const req = target.https
      ? httpsRequest({ ...options, ...target.tls }, resolve)
      : httpRequest(options, resolve);
    req.on('error', reject);
    req.end();
  });
}

export async function fetchText(
  target: Target,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await open(target, method, path, headers);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

/** Collects a streaming response as it arrives, so a test can wait for text without consuming the stream. */
export class StreamReader {
  text = '';
  ended = false;
  #waiters: Array<() => void> = [];

  constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.text += chunk;
      this.#wake();
    });
    const end = () => {
      this.ended = true;
      this.#wake();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Resolves once `text` has arrived; rejects if the stream ends first. */
  async until(text: string): Promise<string> {
    while (!this.text.includes(text)) {
      if (this.ended)
        throw new Error(`stream ended before ${JSON.stringify(text)}; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.text;
  }

  /** Resolves when the response has ended. */
  async end(): Promise<string> {
    while (!this.ended) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.text;
  }
}

/**
 * Sends an upgrade request over a raw TLS connection (as the API server does toward the kubelet) and
 * resolves with the response head and the socket, which stays open for whatever protocol follows.
 */
export function rawUpgrade(
  target: Target,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ head: string; status: number; rest: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: target.port,
      rejectUnauthorized: false,
      ...target.tls,
    });
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('secureConnect', () => {
      const lines = [
        `${method} ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Connection: Upgrade',
        'Upgrade: SPDY/3.1',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    const onData = (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = buffer.slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ head, status, rest: buffer.slice(end + 4), socket });
    };
    socket.on('data', onData);
  });
}
