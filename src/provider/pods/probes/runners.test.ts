// The network probe handlers against servers on loopback: status codes, headers, refused ports,
// timeouts, and a gRPC health server spoken to over h2c.
import test from 'ava';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { decodeStatus, grpcHealthCheck } from './grpc-health.js';
import { runHttpGet, runTcpSocket } from './runners.js';

async function listen(server: net.Server | http2.Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('httpGet: 2xx and 3xx succeed, other codes fail with the kubelet message; headers and path are sent', async (t) => {
  const seen: Array<{ url?: string; header?: string | string[]; agent?: string }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, header: req.headers['x-probe'], agent: req.headers['user-agent'] });
    res.statusCode = req.url === '/ok' ? 200 : req.url === '/moved' ? 302 : 503;
    res.end();
  });
  const port = await listen(server);
  t.teardown(() => server.close());
  const get = (path: string) =>
    runHttpGet(
      { kind: 'httpGet', scheme: 'HTTP', port, path, headers: [{ name: 'X-Probe', value: 'yes' }] },
      '127.0.0.1',
      1000,
    );
  t.deepEqual(await get('/ok'), { result: 'success', output: '' });
  t.deepEqual(await get('/moved'), { result: 'success', output: '' });
  t.deepEqual(await get('/bad'), { result: 'failure', output: 'HTTP probe failed with statuscode: 503' });
  t.like(seen[0], { url: '/ok', header: 'yes', agent: 'kube-probe/1.37' });
});

test('httpGet and tcpSocket: a refused port fails with the dial error', async (t) => {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  const h = await runHttpGet(
    { kind: 'httpGet', scheme: 'HTTP', port, path: '/', headers: [] },
    '127.0.0.1',
    1000,
  );
  t.deepEqual(h, {
    result: 'failure',
    output: `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
  t.deepEqual(await runTcpSocket('127.0.0.1', port, 1000), {
    result: 'failure',
    output: `dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
});

test('tcpSocket succeeds on a listening port; httpGet times out on a server that never answers', async (t) => {
  const server = net.createServer(() => undefined);
  const port = await listen(server);
  t.teardown(() => server.close());
  t.deepEqual(await runTcpSocket('127.0.0.1', port, 1000), { result: 'success', output: '' });
  const slow = await runHttpGet(
    { kind: 'httpGet', scheme: 'HTTP', port, path: '/', headers: [] },
    '127.0.0.1',
    200,
  );
  t.is(slow.result, 'failure');
  t.regex(slow.output, /context deadline exceeded/);
});

test('grpc: SERVING passes, NOT_SERVING fails with the status named, the service name is sent', async (t) => {
  const services: string[] = [];
  const server = http2.createServer();
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const service = body.length > 7 ? body.subarray(7).toString() : '';
      services.push(service);
      const status = service === 'down' ? 2 : 1;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, status]));
    });
  });
  const port = await listen(server);
  t.teardown(() => server.close());
  t.deepEqual(await grpcHealthCheck({ host: '127.0.0.1', port, service: '', timeoutMs: 1000 }), {
    serving: true,
  });
  t.deepEqual(await grpcHealthCheck({ host: '127.0.0.1', port, service: 'down', timeoutMs: 1000 }), {
    serving: false,
    message: 'service unhealthy (responded with "NOT_SERVING")',
  });
  t.deepEqual(services, ['', 'down']);
  t.is(decodeStatus(Buffer.from([0, 0, 0, 0, 0])), 0);
});
