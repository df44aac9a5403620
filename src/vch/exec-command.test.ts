// The lean exec path of probes and hooks (exec.ts #command over engine-http.ts) against a scripted
// engine on a unix socket: the three requests, the demultiplexed output, the exit code once the
// engine records it, reused connections, and errors classified as every VCH error is.
import test from 'ava';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { VicError } from '../shared/errors.js';
import { createClient } from './client.js';
import { Sessions } from './exec.js';

interface Script {
  /** Inspects that answer Running: true before the exit code is recorded. */
  runningInspects?: number;
  exitCode?: number;
  createStatus?: number;
  /** Hold the exec's output open (never end it). */
  hang?: boolean;
}

function frame(stream: 1 | 2, text: string): Buffer {
  const data = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

async function fakeEngine(script: Script) {
  const dir = mkdtempSync(join(tmpdir(), 'vk-exec-'));
  const socketPath = join(dir, 'docker.sock');
  const seen: string[] = [];
  const connections = new Set<unknown>();
  let inspects = 0;
  let createdBody: unknown;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    connections.add(req.socket);
    seen.push(`${req.method} ${req.url}`);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/containers/c1/exec') {
        createdBody = JSON.parse(body);
        if (script.createStatus && script.createStatus !== 201) {
          res.writeHead(script.createStatus, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: 'container c1 is not running' }));
          return;
        }
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ Id: 'e1' }));
      } else if (req.url === '/exec/e1/json') {
        inspects += 1;
        const running = inspects <= (script.runningInspects ?? 0);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ Running: running, ExitCode: running ? 0 : (script.exitCode ?? 0) }));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket) => {
    seen.push(`${req.method} ${req.url} (upgrade ${req.headers.upgrade})`);
    socket.write(
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    socket.write(Buffer.concat([frame(1, 'out '), frame(2, 'err')]));
    if (!script.hang) socket.end();
  });
  server.listen(socketPath);
  await once(server, 'listening');
  const client = createClient({ endpoint: `unix://${socketPath}` });
  return {
    sessions: new Sessions(client, 'node'),
    seen,
    connections,
    createdBody: () => createdBody,
    close: async () => {
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const target = { uid: 'u1', containerName: 'main', containerId: 'c1' };

test('a command runs as create, start (taken over) and inspect; output split by stream; the exit code waits for the engine to record it', async (t) => {
  const engine = await fakeEngine({ runningInspects: 2, exitCode: 3 });
  t.teardown(engine.close);
  const stdout = new Sink();
  const stderr = new Sink();
  const result = await engine.sessions.exec(target, ['test', '-f', '/ready'], {
    stdout,
    stderr,
    tty: false,
    signal: AbortSignal.timeout(5000),
  });
  t.deepEqual(result, { exitCode: 3 });
  t.is(stdout.text, 'out ');
  t.is(stderr.text, 'err');
  t.deepEqual(engine.createdBody(), {
    Cmd: ['test', '-f', '/ready'],
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  t.deepEqual(engine.seen, [
    'POST /containers/c1/exec',
    'POST /exec/e1/start (upgrade tcp)',
    'GET /exec/e1/json',
    'GET /exec/e1/json',
    'GET /exec/e1/json',
  ]);
});

test('create and inspect share a kept-alive connection; only the start takes one of its own', async (t) => {
  const engine = await fakeEngine({});
  t.teardown(engine.close);
  for (let i = 0; i < 3; i++) {
    await engine.sessions.exec(target, ['true'], {
      stdout: new Sink(),
      stderr: new Sink(),
      tty: false,
      signal: AbortSignal.timeout(5000),
    });
  }
  // Six plain requests (create + inspect, three times) over one connection; starts are upgrades.
  t.is(engine.connections.size, 1);
});

test('an engine refusal is a classified VicError naming the container, never the command', async (t) => {
  const engine = await fakeEngine({ createStatus: 409 });
  t.teardown(engine.close);
  const err = await t.throwsAsync(
    engine.sessions.exec(target, ['cat', '/secret-token'], {
      stdout: new Sink(),
      stderr: new Sink(),
      tty: false,
      signal: AbortSignal.timeout(5000),
    }),
    { instanceOf: VicError },
  );
  t.is(err?.code, 'Conflict');
  t.is(err?.message, 'exec in container c1: container c1 is not running');
});

test('aborting ends a command whose output never ends', async (t) => {
  const engine = await fakeEngine({ hang: true });
  t.teardown(engine.close);
  const err = await t.throwsAsync(
    engine.sessions.exec(target, ['sleep', '100'], {
      stdout: new Sink(),
      stderr: new Sink(),
      tty: false,
      signal: AbortSignal.timeout(300),
    }),
    { instanceOf: VicError },
  );
  t.is(err?.code, 'Canceled');
});
