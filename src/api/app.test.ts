import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { VicError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { createKubeletApp } from './app.js';
import { Authenticator, type TokenReviewer } from './auth/authenticate.js';
import { Authorizer, type AccessReviewer } from './auth/authorize.js';
import { AccessGuard } from './auth/guard.js';
import { KubeletMetrics } from './own-metrics.js';
import { FakeKubeletProvider, fakePod } from './testing/fake-provider.js';
import { StreamReader, fetchText, open, type Target } from './testing/http-client.js';
import { cannedUsage } from './testing/usage.js';

const admin = { authorization: 'Bearer admin-token' };
const viewer = { authorization: 'Bearer viewer-token' };

const tokens: TokenReviewer = {
  async review(token) {
    if (token === 'admin-token') return { name: 'admin', groups: ['system:masters'] };
    if (token === 'viewer-token') return { name: 'viewer', groups: [] };
    return undefined;
  },
};

/** admin may do anything; viewer may only read stats. */
const access: AccessReviewer = {
  async allowed(user, attributes) {
    return user.name === 'admin' || (attributes.subresource === 'stats' && attributes.verb === 'get');
  },
};

async function start(t: ExecutionContext) {
  const provider = new FakeKubeletProvider();
  provider.pods = [fakePod('default', 'web', ['main', 'side'])];
  provider.logs.set('default/web/main', 'line 1\nline 2\n');
  provider.usageResult = cannedUsage();
  const shutdown = new AbortController();
  const metrics = new KubeletMetrics({ processMetrics: false });
  const guard = new AccessGuard({
    authenticator: new Authenticator({ tokens, x509: false }),
    authorizer: new Authorizer({ reviewer: access, nodeName: 'vk-test' }),
    logger: silentLogger,
  });
  const app = createKubeletApp({
    provider,
    nodeName: 'vk-test',
    guard,
    logger: silentLogger,
    shutdown: shutdown.signal,
    metrics,
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const target: Target = { port: (server.address() as AddressInfo).port };
  return { provider, shutdown, target };
}

test('every route answers 401 without credentials', async (t) => {
  const { target } = await start(t);
  for (const [method, path] of [
    ['GET', '/healthz'],
    ['GET', '/pods'],
    ['GET', '/containerLogs/default/web/main'],
    ['POST', '/run/default/web/main?cmd=ls'],
    ['GET', '/exec/default/web/main'],
    ['GET', '/metrics/resource'],
    ['GET', '/no/such/route'],
  ] as const) {
    const reply = await fetchText(target, method, path);
    t.is(reply.status, 401, path);
    t.is(reply.body, 'Unauthorized\n');
  }
  t.is((await fetchText(target, 'GET', '/pods', { authorization: 'Bearer wrong' })).status, 401);
});

test('a caller without the subresource gets the kubelet 403', async (t) => {
  const { target } = await start(t);
  const reply = await fetchText(target, 'GET', '/pods', viewer);
  t.is(reply.status, 403);
  t.is(reply.body, 'Forbidden (user=viewer, verb=get, resource=nodes, subresource(s)=[pods proxy])\n');
  const logs = await fetchText(target, 'GET', '/containerLogs/default/web/main', viewer);
  t.is(logs.body, 'Forbidden (user=viewer, verb=get, resource=nodes, subresource(s)=[proxy])\n');
  t.is((await fetchText(target, 'GET', '/stats/summary', viewer)).status, 200);
});

test('healthz, pods and runningpods', async (t) => {
  const { target } = await start(t);
  t.like(await fetchText(target, 'GET', '/healthz', admin), { status: 200, body: 'ok' });
  for (const path of ['/pods', '/runningpods/', '/runningpods']) {
    const reply = await fetchText(target, 'GET', path, admin);
    t.is(reply.status, 200, path);
    t.regex(String(reply.headers['content-type']), /^application\/json/);
    const list = JSON.parse(reply.body) as {
      kind: string;
      apiVersion: string;
      items: Array<{ metadata: Record<string, unknown> }>;
    };
    t.is(list.kind, 'PodList');
    t.is(list.apiVersion, 'v1');
    t.is(list.items[0]?.metadata.name, 'web');
    t.is(list.items[0]?.metadata.creationTimestamp, '2024-05-01T12:00:00Z');
  }
});

test('unknown routes are 404, wrong methods 405', async (t) => {
  const { target } = await start(t);
  t.is((await fetchText(target, 'GET', '/nope', admin)).status, 404);
  t.is((await fetchText(target, 'GET', '/Pods', admin)).status, 404);
  t.is((await fetchText(target, 'GET', '/containerLogs/default/web', admin)).status, 404);
  const post = await fetchText(target, 'POST', '/pods', admin);
  t.is(post.status, 405);
  t.is(post.headers.allow, 'GET');
  t.is((await fetchText(target, 'GET', '/run/default/web/main?cmd=ls', admin)).status, 405);
});

test('container logs with their options', async (t) => {
  const { target, provider } = await start(t);
  const reply = await fetchText(
    target,
    'GET',
    '/containerLogs/default/web/main?tailLines=5&timestamps=true',
    admin,
  );
  t.is(reply.status, 200);
  t.is(reply.body, 'line 1\nline 2\n');
  t.is(reply.headers['transfer-encoding'], 'chunked');
  t.deepEqual(provider.logRequests[0], {
    pod: { namespace: 'default', name: 'web' },
    container: 'main',
    options: { follow: false, previous: false, timestamps: true, tailLines: 5 },
  });
});

test('malformed log options are a 400 that says what is wrong', async (t) => {
  const { target, provider } = await start(t);
  const reply = await fetchText(target, 'GET', '/containerLogs/default/web/main?sinceTime=yesterday', admin);
  t.is(reply.status, 400);
  t.regex(reply.body, /sinceTime="yesterday" is not an RFC3339 time/);
  t.is(provider.logRequests.length, 0);
  const json = await fetchText(target, 'GET', '/containerLogs/default/web/main?tailLines=x', {
    ...admin,
    accept: 'application/json',
  });
  t.like(JSON.parse(json.body), { kind: 'Status', code: 400, reason: 'BadRequest' });
});

test('unknown pod or container is a 404', async (t) => {
  const { target } = await start(t);
  const pod = await fetchText(target, 'GET', '/containerLogs/default/nope/main', admin);
  t.is(pod.status, 404);
  t.is(pod.body, 'pod default/nope not found on this node\n');
  const container = await fetchText(target, 'GET', '/containerLogs/default/web/nope', admin);
  t.is(container.status, 404);
  t.regex(container.body, /container nope not found/);
});

test('a follow stream delivers chunks while open and stops the provider stream when the client leaves', async (t) => {
  const { target, provider } = await start(t);
  const res = await open(target, 'GET', '/containerLogs/default/web/main?follow=true', admin);
  t.is(res.statusCode, 200);
  const reader = new StreamReader(res);
  const follow = provider.follows[0];
  if (!follow) return t.fail('no follow stream');
  follow.stream.write('first\n');
  await reader.until('first\n');
  follow.stream.write('second\n');
  t.is(await reader.until('second\n'), 'first\nsecond\n');
  t.false(follow.stream.destroyed);
  res.destroy();
  await new Promise<void>((resolve) => follow.stream.once('close', resolve));
  t.true(follow.stream.destroyed);
  t.true(follow.signal.aborted);
});

test('a follow stream ends cleanly at shutdown', async (t) => {
  const { target, provider, shutdown } = await start(t);
  const reader = new StreamReader(await open(target, 'GET', '/containerLogs/default/web/main?follow', admin));
  const follow = provider.follows[0];
  follow?.stream.write('hello\n');
  await reader.until('hello\n');
  shutdown.abort();
  t.is(await reader.end(), 'hello\n');
  t.true(reader.res.complete);
  t.true(follow?.signal.aborted);
});

test('run returns the output, and a non-zero exit is a 500 with it', async (t) => {
  const { target, provider } = await start(t);
  const ok = await fetchText(target, 'POST', '/run/default/web/main?cmd=ls%20-l%20/', admin);
  t.is(ok.status, 200);
  t.is(ok.body, 'ran ls -l /\non stderr\n');
  t.deepEqual(provider.execs[0]?.command, ['ls', '-l', '/']);
  const withUid = await fetchText(target, 'POST', '/run/default/web/uid-web/main?cmd=true', admin);
  t.is(withUid.status, 200);
  t.is((await fetchText(target, 'POST', '/run/default/web/other-uid/main?cmd=true', admin)).status, 404);
  provider.exitCode = 3;
  const failed = await fetchText(target, 'POST', '/run/default/web/main?cmd=false', admin);
  t.is(failed.status, 500);
  t.regex(failed.body, /non-zero exit code 3/);
  t.is((await fetchText(target, 'POST', '/run/default/web/main', admin)).status, 400);
});

test('plain requests to the streaming routes need an upgrade', async (t) => {
  const { target } = await start(t);
  for (const path of [
    '/exec/default/web/main?command=ls',
    '/attach/default/web/uid/main',
    '/portForward/default/web',
  ]) {
    const reply = await fetchText(target, 'POST', path, admin);
    t.is(reply.status, 400, path);
    t.is(reply.body, 'Upgrade request required\n');
  }
  t.is((await fetchText(target, 'GET', '/exec/default', admin)).status, 404);
});

test('stats summary and resource metrics', async (t) => {
  const { target } = await start(t);
  const summary = await fetchText(target, 'GET', '/stats/summary', admin);
  t.is(summary.status, 200);
  t.like(JSON.parse(summary.body), { node: { nodeName: 'vk-test', cpu: { usageCoreNanoSeconds: 90e9 } } });
  const metrics = await fetchText(target, 'GET', '/metrics/resource', admin);
  t.regex(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  t.regex(metrics.body, /^node_cpu_usage_seconds_total 90 1714564810000$/m);
});

test('a handler that throws is a 500 and the server carries on', async (t) => {
  const { target, provider } = await start(t);
  provider.usageResult = new TypeError('boom');
  const reply = await fetchText(target, 'GET', '/stats/summary', admin);
  t.is(reply.status, 500);
  t.is(reply.body, 'Internal error: see the vic-kubelet log\n');
  provider.usageResult = new VicError('VchUnavailable', 'the VCH does not answer');
  t.like(await fetchText(target, 'GET', '/stats/summary', admin), {
    status: 503,
    body: 'the VCH does not answer\n',
  });
  t.is((await fetchText(target, 'GET', '/healthz', admin)).status, 200);
  t.is((await fetchText(target, 'GET', '/containerLogs/default/web/%E0%A4%A', admin)).status, 400);
});

test('own metrics count requests by route pattern', async (t) => {
  const { target } = await start(t);
  await fetchText(target, 'GET', '/containerLogs/default/web/main', admin);
  const reply = await fetchText(target, 'GET', '/metrics', admin);
  t.is(reply.status, 200);
  t.regex(
    reply.body,
    /vic_kubelet_api_requests_total\{route="\/containerLogs\/:namespace\/:pod\/:container",method="GET",code="200"\} 1/,
  );
});
