// An https server started in-process for the streaming integration tests: every upgrade goes through
// handleStreamingUpgrade with a fake provider. exec commands: `echo` (stdin to stdout), `exit N`
// (writes "out\n" and "err\n", exits N), `resize N` (prints N terminal sizes), `fail MSG` (the
// provider fails), `hold` (waits until the client goes away). Port-forward connects to a local TCP
// echo server, except port 81, which fails.
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { handleStreamingUpgrade } from '../../../../src/api/streaming/handle-upgrade.js';
import type { AttachSession, SessionOutcome } from '../../../../src/api/streaming/attach-session.js';
import type { ExecOptions } from '../../../../src/api/streaming/exec-options.js';
import type { PortForwardRequest } from '../../../../src/api/streaming/port-forward.js';

export interface StreamingServer {
  readonly port: number;
  readonly url: string;
  /** 'attach' (command) when a session starts, 'aborted' (command) when its client went away. */
  readonly events: EventEmitter;
  close(): Promise<void>;
}

async function selfSignedCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vic-kubelet-tls-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    return {
      key: await readFile(path.join(dir, 'key.pem')),
      cert: await readFile(path.join(dir, 'cert.pem')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fakeAttach(
  events: EventEmitter,
  session: AttachSession,
  options: ExecOptions,
): Promise<SessionOutcome> {
  const [command = '', ...args] = options.command;
  events.emit('attach', options.command);
  session.signal.addEventListener('abort', () => events.emit('aborted', options.command));
  switch (command) {
    case 'echo':
      if (session.stdin === undefined || session.stdout === undefined)
        throw new Error('echo needs stdin and stdout');
      await pipeline(session.stdin, session.stdout);
      return { exitCode: 0 };
    case 'exit':
      session.stdout?.write('out\n');
      session.stderr?.write('err\n');
      return { exitCode: Number(args[0] ?? 0) };
    case 'resize': {
      const wanted = Number(args[0] ?? 1);
      let seen = 0;
      for await (const size of session.resize) {
        session.stdout?.write(`${size.width}x${size.height}\n`);
        if (++seen === wanted) break;
      }
      return { exitCode: 0 };
    }
    case 'fail':
      throw new Error(args.join(' '));
    case 'hold':
      await new Promise((resolve) => session.signal.addEventListener('abort', resolve));
      return { exitCode: 0 };
    default:
      return { exitCode: 127 };
  }
}

async function forwardToEcho(echoPort: number, request: PortForwardRequest): Promise<void> {
  if (request.port === 81) throw new Error('connection refused');
  const upstream = net.connect(echoPort, '127.0.0.1');
  await pipeline(request.stream, upstream, request.stream);
}

export async function startStreamingServer(): Promise<StreamingServer> {
  const events = new EventEmitter();
  const echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as AddressInfo).port;

  const server = https.createServer(await selfSignedCertificate());
  const sockets = new Set<Duplex>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head: Buffer) => {
    const url = req.url ?? '/';
    if (url.startsWith('/portForward/')) {
      void handleStreamingUpgrade(req, socket, head, {
        kind: 'portforward',
        onPortForward: (request) => forwardToEcho(echoPort, request),
      });
      return;
    }
    void handleStreamingUpgrade(req, socket, head, {
      kind: url.startsWith('/attach/') ? 'attach' : 'exec',
      onAttach: (session, options) => fakeAttach(events, session, options),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    events,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => echo.close(resolve));
    },
  };
}
