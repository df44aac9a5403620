import { once } from 'node:events';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import {
  connect,
  createServer as createTlsServer,
  type ConnectionOptions,
  type PeerCertificate,
} from 'node:tls';
import test, { type ExecutionContext } from 'ava';
import { FakeClock } from '../shared/fake-clock.js';
import { silentLogger } from '../shared/logger.js';
import type { TokenReviewer } from './auth/authenticate.js';
import type { AccessReviewer } from './auth/authorize.js';
import { createKubeletServer, type KubeletServerOptions } from './server.js';
import type { StreamingRoute } from './streaming-route.js';
import { buildSelfSigned, generateServingKey } from './tls/x509-builder.js';
import { FakeKubeletProvider, fakePod } from './testing/fake-provider.js';
import { StreamReader, fetchText, open, rawUpgrade, type Target } from './testing/http-client.js';

const tokens: TokenReviewer = {
  review: async (token) =>
    token === 'admin-token'
      ? { name: 'admin', groups: [] }
      : token === 'viewer-token'
        ? { name: 'viewer', groups: [] }
        : undefined,
};
const access: AccessReviewer = { allowed: async (user) => user.name === 'admin' };
const admin = { authorization: 'Bearer admin-token' };

interface Upgraded {
  route: StreamingRoute;
  authorization: string | undefined;
}

async function start(t: ExecutionContext, over: Partial<KubeletServerOptions> = {}) {
  const provider = new FakeKubeletProvider();
  provider.pods = [fakePod('default', 'web', ['main'])];
  const upgrades: Upgraded[] = [];
  const server = createKubeletServer({
    provider,
    nodeName: 'vk-test',
    port: 0,
    address: '127.0.0.1',
    tls: { source: 'self-signed', ipAddresses: ['127.0.0.1'] },
    auth: { tokenReviewer: tokens, accessReviewer: access },
    // A stand-in transport: accepts the upgrade and echoes what it receives.
    streaming: (req, socket, _head, route) => {
      upgrades.push({ route, authorization: req.headers.authorization });
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
    },
    logger: silentLogger,
    ...over,
  });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  const target: Target = { port, https: true, tls: { rejectUnauthorized: false } };
  return { server, provider, upgrades, target };
}

function peerCertificate(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

test('serves HTTPS with the self-signed certificate of the node', async (t) => {
  const { target } = await start(t);
  t.like(await fetchText(target, 'GET', '/healthz', admin), { status: 200, body: 'ok' });
  const cert = await peerCertificate(target.port);
  t.is(cert.subject.CN, 'vk-test');
  t.regex(cert.subjectaltname ?? '', /DNS:vk-test, IP Address:127\.0\.0\.1/);
});

/** A client that offers TLS 1.1 only, with the legacy ciphers its own OpenSSL would otherwise refuse. */
const tls11Client: ConnectionOptions = {
  host: '127.0.0.1',
  rejectUnauthorized: false,
  minVersion: 'TLSv1.1',
  maxVersion: 'TLSv1.1',
  ciphers: 'DEFAULT@SECLEVEL=0',
};

function handshake(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ ...tls11Client, port }, () => {
      resolve(socket.getProtocol() ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

test('the server refuses a TLS 1.1 handshake that the client does offer', async (t) => {
  // The client really offers TLS 1.1: a server that allows it completes the handshake.
  const { privateKey, keyPem } = generateServingKey();
  const now = Date.now();
  const cert = buildSelfSigned({
    subject: { commonName: 'legacy' },
    san: { dnsNames: ['legacy'], ipAddresses: ['127.0.0.1'] },
    privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
  });
  const legacy = createTlsServer({ key: keyPem, cert, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
  legacy.on('secureConnection', (socket) => socket.end());
  await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => legacy.close());
  t.is(await handshake((legacy.address() as AddressInfo).port), 'TLSv1.1');

  // The kubelet port answers the same offer with the server's protocol_version alert.
  const { target } = await start(t);
  const refused = await t.throwsAsync(handshake(target.port));
  t.is((refused as NodeJS.ErrnoException | undefined)?.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
});

test('a renewed certificate is served without a restart', async (t) => {
  const clock = new FakeClock(Date.now());
  const { target } = await start(t, { clock });
  const before = await peerCertificate(target.port);
  clock.advance(300 * 86_400_000);
  await new Promise((resolve) => setImmediate(resolve));
  const after = await peerCertificate(target.port);
  t.not(after.fingerprint256, before.fingerprint256);
  t.is(after.subject.CN, 'vk-test');
});

test('upgrades are authenticated and authorized before the transport sees them', async (t) => {
  const { target, upgrades } = await start(t);
  const anonymous = await rawUpgrade(target, 'POST', '/exec/default/web/main?command=ls', {});
  t.is(anonymous.status, 401);
  t.is(anonymous.rest, 'Unauthorized\n');
  const forbidden = await rawUpgrade(target, 'POST', '/exec/default/web/main?command=ls', {
    Authorization: 'Bearer viewer-token',
  });
  t.is(forbidden.status, 403);
  t.is(forbidden.rest, 'Forbidden (user=viewer, verb=create, resource=nodes, subresource(s)=[proxy])\n');
  t.is(upgrades.length, 0);

  const allowed = await rawUpgrade(target, 'POST', '/attach/default/web/uid-web/main?stdout=1', {
    Authorization: 'Bearer admin-token',
  });
  t.is(allowed.status, 101);
  t.deepEqual(upgrades, [
    {
      route: {
        kind: 'attach',
        pod: { namespace: 'default', name: 'web', uid: 'uid-web' },
        container: 'main',
      },
      authorization: undefined,
    },
  ]);
  allowed.socket.write('ping');
  const echoed = await new Promise<string>((resolve) =>
    allowed.socket.once('data', (d: string) => resolve(d)),
  );
  t.is(echoed, 'ping');
  allowed.socket.destroy();
});

test('upgrades to anything but exec, attach and portForward are refused', async (t) => {
  const { target, upgrades } = await start(t);
  t.is((await rawUpgrade(target, 'GET', '/pods', admin)).status, 404);
  t.is((await rawUpgrade(target, 'GET', '/exec/default/web', admin)).status, 400);
  t.is((await rawUpgrade(target, 'PUT', '/portForward/default/web', admin)).status, 405);
  const forwarded = await rawUpgrade(target, 'GET', '/portForward/default/web', admin);
  t.is(forwarded.status, 101);
  forwarded.socket.destroy();
  t.is(upgrades.length, 1);
});

test('close drains in-flight requests and ends follow streams', async (t) => {
  const { server, provider, target } = await start(t);
  const follow = new StreamReader(
    await open(target, 'GET', '/containerLogs/default/web/main?follow=true', admin),
  );
  provider.follows[0]?.stream.write('line\n');
  await follow.until('line\n');

  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (entered = resolve));
  const list = provider.listPods.bind(provider);
  provider.listPods = async () => {
    entered();
    await gate;
    return list();
  };
  const slow = fetchText(target, 'GET', '/pods', admin);
  await reached;
  const closing = server.close();
  t.is(await follow.end(), 'line\n');
  t.true(follow.res.complete);
  release();
  const reply = await slow;
  t.is(reply.status, 200);
  t.is(reply.headers.connection, 'close');
  await closing;
});

test('close cuts upgraded connections after the grace period', async (t) => {
  const clock = new FakeClock(Date.now());
  const { server, target } = await start(t, { clock, shutdownGraceMs: 5000 });
  const upgraded = await rawUpgrade(target, 'POST', '/exec/default/web/main', admin);
  t.is(upgraded.status, 101);
  const ended = new Promise<void>((resolve) => upgraded.socket.once('close', () => resolve()));
  const closing = server.close();
  clock.advance(5000);
  await closing;
  await ended;
  t.true(upgraded.socket.destroyed);
});

// Short, but with room for a TLS handshake on a busy machine.
const tightLimits = {
  handshakeTimeoutMs: 5000,
  headersTimeoutMs: 500,
  maxConnections: 3,
};

const closedWithin = (socket: Socket, ms: number): Promise<boolean> =>
  socket.closed
    ? Promise.resolve(true)
    : Promise.race([
        once(socket, 'close').then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
      ]);

test('a connection that never starts its TLS handshake is closed after the handshake timeout', async (t) => {
  const { target } = await start(t, { limits: { ...tightLimits, handshakeTimeoutMs: 300 } });
  const socket = netConnect({ host: '127.0.0.1', port: target.port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.resume();
  t.true(await closedWithin(socket, 5000));
});

test('a TLS connection that sends no request is closed; one that does is kept for keep-alive', async (t) => {
  const { target } = await start(t, { limits: tightLimits });
  const idle = connect({ host: '127.0.0.1', port: target.port, rejectUnauthorized: false });
  idle.on('error', () => undefined);
  await once(idle, 'secureConnect');
  let heard = '';
  // Reading, or the client would never notice the close.
  idle.on('data', (d: Buffer) => (heard += d.toString('latin1')));
  t.true(await closedWithin(idle, 5000), 'idle before any request');
  t.regex(heard, /^HTTP\/1\.1 408 Request Timeout/);

  const busy = connect({ host: '127.0.0.1', port: target.port, rejectUnauthorized: false });
  busy.on('error', () => undefined);
  await once(busy, 'secureConnect');
  busy.write('GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin-token\r\n\r\n');
  const [answer] = (await once(busy, 'data')) as [Buffer];
  t.regex(answer.toString('latin1'), /^HTTP\/1\.1 200 OK/);
  // keepAliveTimeout (90 s) governs it now, not the first-request timeout.
  t.false(await closedWithin(busy, 2000), 'kept after its first request');
  busy.destroy();
});

test('a request head that never ends gets 408 and a closed connection', async (t) => {
  const { target } = await start(t, { limits: tightLimits });
  const slow = connect({ host: '127.0.0.1', port: target.port, rejectUnauthorized: false });
  slow.on('error', () => undefined);
  await once(slow, 'secureConnect');
  let heard = '';
  slow.on('data', (d: Buffer) => (heard += d.toString('latin1')));
  slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  const drip = setInterval(() => {
    if (!slow.writableEnded && !slow.destroyed) slow.write('X-Slow: 1\r\n');
  }, 100);
  t.teardown(() => clearInterval(drip));
  t.true(await closedWithin(slow, 5000));
  t.regex(heard, /^HTTP\/1\.1 408 Request Timeout/);
});

test('connections beyond the cap are closed at once while those within are served', async (t) => {
  const { target } = await start(t, { limits: tightLimits });
  const held: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = netConnect({ host: '127.0.0.1', port: target.port });
    s.on('error', () => undefined);
    await once(s, 'connect');
    held.push(s);
  }
  t.teardown(() => held.forEach((s) => s.destroy()));
  const extra = netConnect({ host: '127.0.0.1', port: target.port });
  extra.on('error', () => undefined);
  extra.resume();
  t.true(await closedWithin(extra, 5000), 'the fourth connection is dropped');
  for (const s of held) s.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.like(await fetchText(target, 'GET', '/healthz', admin), { status: 200, body: 'ok' });
});
