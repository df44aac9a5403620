// port-forward against client-go's real port forwarder (SPDY, and SPDY tunnelled in WebSocket as
// kubectl 1.31+ does), and against a plain ws client for the kubelet's WebSocket channel protocol.
import test from 'ava';
import { once } from 'node:events';
import WebSocket from 'ws';
import { peerBinary, runPeer } from './helpers/peer.js';
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

for (const transport of ['spdy', 'tunnel']) {
  test(`${transport}: bytes round-trip through concurrent forwarded connections`, async (t) => {
    const run = await runPeer([
      'portforward',
      '--url',
      `${server.url}/portForward/default/pod`,
      '--transport',
      transport,
      '--port',
      '80',
      '--connections',
      '4',
      '--bytes',
      String(1024 * 1024),
    ]);
    t.is(run.code, 0, run.stderr.toString());
    t.deepEqual(JSON.parse(run.stdout.toString()), { connections: 4, bytes: 1024 * 1024 });
  });
}

interface ChannelMessage {
  readonly channel: number;
  readonly data: Buffer;
}

/** A ws client that collects channel messages as they come. */
async function connect(path: string, protocols: string[]) {
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}${path}`, protocols, { rejectUnauthorized: false });
  const messages: ChannelMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    messages.push(
      isBinary
        ? { channel: data[0]!, data: data.subarray(1) }
        : {
            channel: data.toString().charCodeAt(0) - 48,
            data: Buffer.from(data.toString().slice(1), 'base64'),
          },
    );
    waiters.splice(0).forEach((wake) => wake());
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  await once(ws, 'open');
  const until = async (done: (all: readonly ChannelMessage[]) => boolean): Promise<void> => {
    while (!done(messages)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { ws, messages, closed, until };
}

const bytesOn = (messages: readonly ChannelMessage[], channel: number): Buffer =>
  Buffer.concat(messages.filter((m) => m.channel === channel).map((m) => m.data));

const portPrefix = (port: number): Buffer => {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16LE(port);
  return prefix;
};

for (const protocol of ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io']) {
  test(`websocket ${protocol}: each port gets a data and an error channel, prefixed with the port`, async (t) => {
    const client = await connect('/portForward/default/pod?port=80&port=81', [protocol]);
    t.is(client.ws.protocol, protocol);
    // Port 80 is forwarded to the echo server; port 81 fails and says so on its error channel.
    await client.until((all) => bytesOn(all, 3).length > 2);
    t.deepEqual(bytesOn(client.messages, 1), portPrefix(80));
    t.deepEqual(bytesOn(client.messages, 2), portPrefix(81));
    t.is(bytesOn(client.messages, 3).subarray(2).toString(), 'error forwarding port 81: connection refused');

    const payload = Buffer.from('hello through the websocket');
    const send = (data: Buffer): void =>
      protocol.includes('base64')
        ? client.ws.send(`0${data.toString('base64')}`)
        : client.ws.send(Buffer.concat([Buffer.from([0]), data]));
    send(payload);
    await client.until((all) => bytesOn(all, 0).length >= 2 + payload.length);
    t.deepEqual(bytesOn(client.messages, 0), Buffer.concat([portPrefix(80), payload]));
    client.ws.close();
    t.is(await client.closed, 1005);
  });
}

test('websocket port-forward without a port is refused with 400', async (t) => {
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/portForward/default/pod`, ['v4.channel.k8s.io'], {
    rejectUnauthorized: false,
  });
  const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
  t.is(response.statusCode, 400);
});
