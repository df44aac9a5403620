// The kubelet port of a running vic-kubelet, reached directly as an attacker would: every route wants
// credentials, a ServiceAccount without nodes/proxy is refused logs and exec, and a malformed upgrade
// closes its own connection only, while a kubectl exec in another pod carries on.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, kubectl, testEnv } from '../support/env.js';
import {
  kubeletRequest,
  rawRequest,
  spdyUpgradeHeaders,
  webSocketUpgradeHeaders,
  type KubeletAuth,
} from '../support/kubelet-client.js';
import {
  containerStatus,
  createPod,
  createPullSecret,
  podEvents,
  podOn,
  podWhere,
  shell,
} from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';
import { startKubectl } from '../support/pty.js';

const node = virtualNodeForFile(test, 'vk-sec');
let noProxyToken = '';

test.serial.before(async () => {
  const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);
  await createPod(node.ns, 'victim', on({ containers: [shell('main', 'echo victim-log; sleep 3600')] }));
  await createPod(node.ns, 'bystander', on({ containers: [shell('main', 'sleep 3600')] }));
  for (const name of ['victim', 'bystander']) {
    await podWhere(
      node.ns,
      name,
      'running',
      (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined,
    );
  }
  // A ServiceAccount that may read pods in its namespace, but has nothing on nodes.
  await kubeConfig()
    .makeApiClient(k8s.CoreV1Api)
    .createNamespacedServiceAccount({ namespace: node.ns, body: { metadata: { name: 'no-proxy' } } });
  const token = await kubectl(['create', 'token', 'no-proxy', '-n', node.ns]);
  if (token.exitCode !== 0) throw new Error(`kubectl create token: ${token.stderr}`);
  noProxyToken = token.stdout.trim();
});

const execPath = (pod: string, query = 'command=cat&input=1&output=1') =>
  `/exec/${node.ns}/${pod}/main?${query}`;

/** Every request the kubelet API serves, with an upgrade's headers where it upgrades. */
function everyRoute(): Array<{
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
}> {
  return [
    { what: 'containerLogs', method: 'GET', path: `/containerLogs/${node.ns}/victim/main` },
    { what: 'exec (SPDY)', method: 'POST', path: execPath('victim'), headers: spdyUpgradeHeaders },
    { what: 'exec (WebSocket)', method: 'GET', path: execPath('victim'), headers: webSocketUpgradeHeaders() },
    {
      what: 'attach (SPDY)',
      method: 'POST',
      path: `/attach/${node.ns}/victim/main?output=1`,
      headers: spdyUpgradeHeaders,
    },
    {
      what: 'attach (WebSocket)',
      method: 'GET',
      path: `/attach/${node.ns}/victim/main?output=1`,
      headers: webSocketUpgradeHeaders(),
    },
    {
      what: 'portForward (SPDY)',
      method: 'POST',
      path: `/portForward/${node.ns}/victim`,
      headers: { ...spdyUpgradeHeaders, 'X-Stream-Protocol-Version': 'portforward.k8s.io' },
    },
    {
      what: 'portForward (WebSocket)',
      method: 'GET',
      path: `/portForward/${node.ns}/victim?port=80`,
      headers: webSocketUpgradeHeaders('v4.channel.k8s.io'),
    },
    { what: 'run', method: 'POST', path: `/run/${node.ns}/victim/main?cmd=ls` },
    { what: 'pods', method: 'GET', path: '/pods' },
    { what: 'runningpods', method: 'GET', path: '/runningpods/' },
    { what: 'stats/summary', method: 'GET', path: '/stats/summary' },
    { what: 'metrics/resource', method: 'GET', path: '/metrics/resource' },
    { what: 'metrics', method: 'GET', path: '/metrics' },
    { what: 'healthz', method: 'GET', path: '/healthz' },
    { what: 'an unknown path', method: 'GET', path: '/nope' },
  ];
}

async function statusOf(
  route: { method: string; path: string; headers?: Record<string, string> },
  auth: KubeletAuth,
) {
  if (!route.headers) {
    const reply = await kubeletRequest(node.vk.port, route.method, route.path, auth);
    return { status: reply.status, body: reply.body };
  }
  const raw = await rawRequest(node.vk.port, { ...route, headers: route.headers, auth });
  raw.socket.destroy();
  return { status: raw.status, body: raw.rest().toString('utf8') };
}

test('without credentials, or with a token nobody issued, every route of the kubelet port answers 401', async (t) => {
  for (const route of everyRoute()) {
    t.is((await statusOf(route, 'none')).status, 401, `${route.what} without credentials`);
    t.is(
      (await statusOf(route, { token: 'not-a-real-token' })).status,
      401,
      `${route.what} with a bad token`,
    );
  }
  // The same routes do serve the API server's kubelet client certificate.
  t.like(await statusOf({ method: 'GET', path: '/healthz' }, 'apiserver'), { status: 200, body: 'ok' });
  t.like(await statusOf({ method: 'GET', path: `/containerLogs/${node.ns}/victim/main` }, 'apiserver'), {
    status: 200,
    body: 'victim-log\n',
  });
});

test('a ServiceAccount without nodes/proxy gets 403 on exec and containerLogs', async (t) => {
  const user = `system:serviceaccount:${node.ns}:no-proxy`;
  const token = { token: noProxyToken };
  const logs = await statusOf({ method: 'GET', path: `/containerLogs/${node.ns}/victim/main` }, token);
  t.is(logs.status, 403);
  t.is(logs.body, `Forbidden (user=${user}, verb=get, resource=nodes, subresource(s)=[proxy])\n`);
  for (const exec of [
    { method: 'POST', path: execPath('victim'), headers: spdyUpgradeHeaders },
    { method: 'GET', path: execPath('victim'), headers: webSocketUpgradeHeaders() },
  ]) {
    const reply = await statusOf(exec, token);
    t.is(reply.status, 403, exec.headers.Upgrade);
    const verb = exec.method === 'POST' ? 'create' : 'get';
    t.true(
      reply.body.includes(`Forbidden (user=${user}, verb=${verb}, resource=nodes, subresource(s)=[proxy])`),
      reply.body,
    );
  }
});

test('malformed upgrades close only their own connection; a kubectl exec elsewhere carries on', async (t) => {
  const bystander = startKubectl(['exec', '-i', '-n', node.ns, 'bystander', '--', 'cat']);
  t.teardown(() => bystander.kill('SIGKILL'));
  bystander.write('before\n');
  await bystander.until('before\n');

  // SPDY: upgraded, then bytes that are no SPDY frame (a control frame of version 9, then noise).
  const spdy = await rawRequest(node.vk.port, {
    method: 'POST',
    path: execPath('victim'),
    headers: spdyUpgradeHeaders,
    auth: 'apiserver',
  });
  t.is(spdy.status, 101);
  spdy.socket.write(Buffer.concat([Buffer.from('800900010000000a', 'hex'), randomBytes(64)]));
  await spdy.closed;

  // WebSocket: upgraded, then a frame a client must never send (unmasked).
  const ws = await rawRequest(node.vk.port, {
    method: 'GET',
    path: execPath('victim'),
    headers: webSocketUpgradeHeaders(),
    auth: 'apiserver',
  });
  t.is(ws.status, 101);
  ws.socket.write(Buffer.concat([Buffer.from([0x82, 0x05]), Buffer.from('hello')]));
  await ws.closed;

  // Upgrade requests that name no protocol we speak, no version of one, or lack the WebSocket key.
  for (const { method, headers } of [
    { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'h2c' } },
    { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } },
    {
      method: 'GET',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' },
    },
  ]) {
    const bad = await rawRequest(node.vk.port, {
      method,
      path: execPath('victim'),
      headers,
      auth: 'apiserver',
    });
    t.is(bad.status, 400, `${method} with Upgrade: ${headers.Upgrade}`);
    await bad.closed;
  }

  // The session that was open all along still works, to its normal end.
  bystander.end('after\n');
  const exit = await bystander.exit();
  t.is(exit.code, 0, bystander.describe());
  t.is(bystander.stdout.toString(), 'before\nafter\n');

  // And vic-kubelet is still up and serving.
  t.true(node.vk.running, node.vk.output().slice(-3000));
  const again = await kubectl(['exec', '-n', node.ns, 'victim', '--', 'sh', '-c', 'exit 3']);
  t.is(again.exitCode, 3, again.stderr);
});

test('exec arguments and a registry user name reach no log, event or status', async (t) => {
  t.timeout(3 * 60_000);
  const argument = `exec-secret-${randomBytes(4).toString('hex')}`;
  // An exec that works, and upgrades that fail after the request was accepted: the URL carries the argument.
  const ok = await kubectl(['exec', '-n', node.ns, 'victim', '--', 'echo', argument]);
  t.is(ok.exitCode, 0, ok.stderr);
  t.is(ok.stdout, `${argument}\n`);
  const query = `command=echo&command=${argument}&output=1`;
  for (const [method, headers] of [
    ['POST', spdyUpgradeHeaders],
    ['GET', webSocketUpgradeHeaders()],
  ] as const) {
    const broken = await rawRequest(node.vk.port, {
      method,
      path: execPath('victim', query),
      headers,
      auth: 'apiserver',
    });
    t.is(broken.status, 101);
    broken.socket.write(Buffer.concat([Buffer.from('800900010000000a', 'hex'), randomBytes(64)]));
    await broken.closed;
  }

  // A pull secret with a user name found nowhere else, and a password the registry refuses.
  const { host } = testEnv.registry;
  const user = `registry-user-${randomBytes(4).toString('hex')}`;
  await createPullSecret(node.ns, 'wrongcred', {
    host,
    user,
    password: `wrong-${randomBytes(4).toString('hex')}`,
  });
  await createPod(
    node.ns,
    'refused',
    podOn(node.vk.nodeName, {
      imagePullSecrets: [{ name: 'wrongcred' }],
      containers: [
        { name: 'main', image: `${host}/vic/busybox:latest`, imagePullPolicy: 'Always', command: ['true'] },
      ],
    }),
  );
  const refused = await podWhere(node.ns, 'refused', 'ErrImagePull or ImagePullBackOff', (p) =>
    ['ErrImagePull', 'ImagePullBackOff'].includes(containerStatus(p, 'main')?.state?.waiting?.reason ?? ''),
  );
  const events = await podEvents(node.ns, 'refused');
  t.true(
    events.some((e) => e.reason === 'Failed' && /refused the credentials/.test(e.message ?? '')),
    JSON.stringify(events.map((e) => e.message)),
  );

  const output = node.vk.output();
  const hits = (needle: string, text: string) => text.split(needle).length - 1;
  t.is(hits(argument, output), 0, 'the exec argument in vic-kubelet’s output');
  t.is(hits(user, output), 0, 'the registry user name in vic-kubelet’s output');
  t.is(hits(user, JSON.stringify(refused.status)), 0, 'the registry user name in the pod status');
  t.is(hits(user, JSON.stringify(events)), 0, 'the registry user name in the pod’s events');
  // The search sees the output at all: the upgrades were logged, by path.
  t.true(output.includes(`/exec/${node.ns}/victim/main`), 'the exec upgrades appear in the log');
});

/** A TLS ClientHello written by hand that offers exactly one protocol version and no extensions. */
function clientHello(version: number): Buffer {
  const suites = [0x002f, 0x0035, 0xc013, 0xc014, 0xc009, 0xc00a];
  const body = Buffer.concat([
    Buffer.from([version >> 8, version & 0xff]),
    randomBytes(32),
    Buffer.from([0]), // no session id
    Buffer.from([0, suites.length * 2]),
    Buffer.from(suites.flatMap((s) => [s >> 8, s & 0xff])),
    Buffer.from([1, 0]), // null compression only
  ]);
  const handshake = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([
    Buffer.from([0x16, 0x03, 0x01, handshake.length >> 8, handshake.length & 0xff]),
    handshake,
  ]);
}

test('the server itself refuses TLS 1.0 and 1.1: a raw ClientHello gets a protocol_version alert', async (t) => {
  // A raw socket, so no client library's own minimum can be what refuses.
  for (const [name, version] of [
    ['TLS 1.0', 0x0301],
    ['TLS 1.1', 0x0302],
  ] as const) {
    const socket = netConnect({ host: '127.0.0.1', port: node.vk.port });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(clientHello(version));
    const [reply] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    // An alert record (21), level fatal (2), description protocol_version (70); never a ServerHello (22).
    t.is(reply[0], 21, `${name}: ${reply.subarray(0, 8).toString('hex')}`);
    t.is(reply[5], 2, `${name}: fatal`);
    t.is(reply[6], 70, `${name}: protocol_version`);
  }
});
