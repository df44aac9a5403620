// Plain HTTP to the VCH for the hot path of probes and hooks (three requests per exec, hundreds per
// second), beside dockerode: one keep-alive agent per VCH with a bounded number of sockets, so the
// create and inspect of each exec reuse a connection, and no per-request work beyond the request
// (docker-modem formats every request's options with util.inspect, debug on or off).
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { toVicError, type VchClient } from './client.js';

/** Sockets kept open to the VCH for probe requests; more requests queue in the agent. */
export const engineSockets = 16;

interface Connection {
  /** Where and how to connect, without method, path or headers. */
  target: http.RequestOptions;
  secure: boolean;
  agent: http.Agent;
}

/** The parts of docker-modem's settings that say how to reach the engine. */
interface ModemSettings {
  socketPath?: string;
  host?: string;
  port?: string | number;
  protocol?: string;
  version?: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  agent?: { options?: { rejectUnauthorized?: boolean } };
}

export interface EngineReply {
  status: number;
  body: Buffer;
}

const connections = new WeakMap<VchClient, Connection & { prefix: string }>();

function connectionOf(client: VchClient): Connection & { prefix: string } {
  let c = connections.get(client);
  if (c) return c;
  const m = client.docker.modem as unknown as ModemSettings;
  const secure = m.protocol === 'https';
  const tls = secure
    ? {
        ...(m.ca !== undefined ? { ca: m.ca } : {}),
        ...(m.cert !== undefined ? { cert: m.cert } : {}),
        ...(m.key !== undefined ? { key: m.key } : {}),
        ...(m.agent?.options?.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      }
    : {};
  const target: http.RequestOptions = m.socketPath
    ? { socketPath: m.socketPath }
    : { host: m.host, port: Number(m.port), ...tls };
  const agentOptions = { keepAlive: true, maxSockets: engineSockets, maxFreeSockets: engineSockets };
  const agent = secure ? new https.Agent({ ...agentOptions, ...tls }) : new http.Agent(agentOptions);
  c = { target, secure, agent, prefix: m.version ? `/${m.version}` : '' };
  connections.set(client, c);
  return c;
}

function send(
  c: Connection,
  options: http.RequestOptions,
  body: string | undefined,
  signal: AbortSignal | undefined,
): http.ClientRequest {
  const headers: http.OutgoingHttpHeaders = { ...(options.headers as http.OutgoingHttpHeaders | undefined) };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  const req = (c.secure ? https : http).request({
    ...c.target,
    ...options,
    headers,
    ...(signal ? { signal } : {}),
  });
  req.end(body);
  return req;
}

/** The error of a non-2xx answer, classified as every VCH error is (client.ts toVicError). */
export function replyError(reply: EngineReply, action: string, endpoint: string): Error {
  let json: unknown;
  try {
    json = JSON.parse(reply.body.toString('utf8'));
  } catch {
    json = { message: reply.body.toString('utf8') };
  }
  return toVicError({ statusCode: reply.status, json, message: `HTTP ${reply.status}` }, action, endpoint);
}

/** One request whose whole (small) answer is read, on the VCH's keep-alive agent. */
export function engineRequest(
  client: VchClient,
  request: { method: string; path: string; body?: unknown; signal?: AbortSignal; action: string },
): Promise<EngineReply> {
  const c = connectionOf(client);
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  return new Promise((resolve, reject) => {
    const req = send(
      c,
      { method: request.method, path: c.prefix + request.path, agent: c.agent },
      body,
      request.signal,
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', (err) => reject(toVicError(err, request.action, client.endpoint)));
    });
    req.on('error', (err) => reject(toVicError(err, request.action, client.endpoint)));
  });
}

/**
 * A request the engine answers by taking over the connection (exec start): resolves with the socket,
 * or rejects with the engine's error. The socket is the caller's to end; it never returns to the agent.
 */
export function engineUpgrade(
  client: VchClient,
  request: { path: string; body: unknown; signal?: AbortSignal; action: string },
): Promise<Socket> {
  const c = connectionOf(client);
  const body = JSON.stringify(request.body);
  return new Promise((resolve, reject) => {
    const req = send(
      c,
      {
        method: 'POST',
        path: c.prefix + request.path,
        agent: false,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
      },
      body,
      request.signal,
    );
    req.on('upgrade', (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const reply = { status: res.statusCode ?? 0, body: Buffer.concat(chunks) };
        // An engine that answers 200 without upgrading streams the output in the body: not expected
        // of Docker or VIC, and refused rather than half-handled.
        reject(replyError(reply, request.action, client.endpoint));
      });
    });
    req.on('error', (err) => reject(toVicError(err, request.action, client.endpoint)));
  });
}
