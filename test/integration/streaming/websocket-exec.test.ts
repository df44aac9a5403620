// exec over the WebSocket channel protocols: client-go's WebSocket executor (v5.channel.k8s.io), and a
// plain ws client for every subprotocol.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import WebSocket from 'ws';
import { peerBinary } from './helpers/peer.js';
import { execThroughPeer, query } from './helpers/exec.js';
import { startStreamingServer, type StreamingServer } from './helpers/server.js';

let server: StreamingServer;

test.before(async (t) => {
  t.timeout(15 * 60_000, 'building the Go peer on a cold cache');
  await peerBinary();
  server = await startStreamingServer();
});

test.after.always(async () => {
  await server?.close();
});

const execPath = (params: Record<string, string | readonly string[]>): string =>
  `/exec/default/pod/container?${query(params)}`;

test('client-go websocket executor: the exit code propagates', async (t) => {
  const { run, outcome } = await execThroughPeer(
    server.url + execPath({ command: ['exit', '3'], output: '1', error: '1' }),
    ['--transport', 'websocket', '--stdout', '--stderr'],
  );
  t.is(outcome.exitCode, 3);
  t.is(run.stdout.toString(), 'out\n');
  t.is(run.stderr.toString(), 'err\n');
});

test('client-go websocket executor: 4 MiB of stdin comes back on stdout, ended by the v5 close signal', async (t) => {
  const input = randomBytes(4 * 1024 * 1024);
  const { run, outcome } = await execThroughPeer(
    server.url + execPath({ command: 'echo', input: '1', output: '1' }),
    ['--transport', 'websocket', '--stdin', '--stdout'],
    input,
  );
  t.deepEqual(outcome, { exitCode: 0 });
  t.is(
    createHash('sha256').update(run.stdout).digest('hex'),
    createHash('sha256').update(input).digest('hex'),
  );
});

test('client-go websocket executor: resize events arrive', async (t) => {
  const { run, outcome } = await execThroughPeer(
    server.url + execPath({ command: ['resize', '2'], output: '1', tty: '1' }),
    ['--transport', 'websocket', '--stdout', '--tty', '--resize', '80x24,120x30'],
  );
  t.deepEqual(outcome, { exitCode: 0 });
  t.is(run.stdout.toString(), '80x24\n120x30\n');
});

interface Message {
  readonly channel: number;
  readonly data: Buffer;
  readonly binary: boolean;
}

/** Runs one exec with a plain ws client and returns every message and the close code. */
async function wsExec(protocol: string, params: Record<string, string | readonly string[]>, stdin?: Buffer) {
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}${execPath(params)}`, [protocol], {
    rejectUnauthorized: false,
  });
  const base64 = protocol.includes('base64');
  const messages: Message[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (base64) {
      const text = data.toString();
      messages.push({
        channel: text.charCodeAt(0) - 48,
        data: Buffer.from(text.slice(1), 'base64'),
        binary: isBinary,
      });
    } else {
      messages.push({ channel: data[0]!, data: data.subarray(1), binary: isBinary });
    }
  });
  const closed = once(ws, 'close') as Promise<[number, Buffer]>;
  await once(ws, 'open');
  if (stdin !== undefined) {
    ws.send(base64 ? `0${stdin.toString('base64')}` : Buffer.concat([Buffer.from([0]), stdin]));
    if (protocol.startsWith('v5')) ws.send(Buffer.from([255, 0]));
  }
  const [code] = await closed;
  return { protocol: ws.protocol, messages, code };
}

const on = (messages: readonly Message[], channel: number): string =>
  Buffer.concat(messages.filter((m) => m.channel === channel).map((m) => m.data)).toString();

for (const protocol of [
  'channel.k8s.io',
  'base64.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'v5.channel.k8s.io',
]) {
  test(`ws client ${protocol}: outputs, exit status and a normal close`, async (t) => {
    const result = await wsExec(protocol, { command: ['exit', '3'], output: '1', error: '1' });
    t.is(result.protocol, protocol);
    const binary = !protocol.includes('base64');
    t.deepEqual(
      result.messages[0],
      { channel: 1, data: Buffer.alloc(0), binary },
      'an empty first message on stdout',
    );
    t.true(
      result.messages.every((message) => message.binary === binary),
      'binary protocols send binary messages, base64 ones text',
    );
    t.is(on(result.messages, 1), 'out\n');
    t.is(on(result.messages, 2), 'err\n');
    const status = on(result.messages, 3);
    if (protocol.startsWith('v4') || protocol.startsWith('v5')) {
      t.deepEqual(JSON.parse(status), {
        metadata: {},
        status: 'Failure',
        message: 'command terminated with non-zero exit code: error executing command [exit 3], exit code 3',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      });
    } else {
      t.is(
        status,
        'command terminated with non-zero exit code: error executing command [exit 3], exit code 3',
      );
    }
    t.is(result.code, 1000);
  });
}

test('ws client v5.channel.k8s.io: [255, 0] ends stdin', async (t) => {
  const result = await wsExec(
    'v5.channel.k8s.io',
    { command: 'echo', input: '1', output: '1' },
    Buffer.from('abc'),
  );
  t.is(on(result.messages, 1), 'abc');
  t.is(on(result.messages, 3), '{"metadata":{},"status":"Success"}');
  t.is(result.code, 1000);
});

test('ws client v4: success writes a Success status, v1 writes nothing', async (t) => {
  const v4 = await wsExec('v4.channel.k8s.io', { command: ['exit', '0'], output: '1' });
  t.is(on(v4.messages, 3), '{"metadata":{},"status":"Success"}');
  const v1 = await wsExec('channel.k8s.io', { command: ['exit', '0'], output: '1' });
  t.is(on(v1.messages, 3), '');
});

test('an unsupported subprotocol is refused with 403', async (t) => {
  const ws = new WebSocket(
    `wss://127.0.0.1:${server.port}${execPath({ command: 'echo', output: '1' })}`,
    ['v9.channel.k8s.io'],
    {
      rejectUnauthorized: false,
    },
  );
  const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
  t.is(response.statusCode, 403);
});
