// The kubelet API against the real API server: client certificates, TokenReview and SubjectAccessReview
// with real ServiceAccounts and RBAC, on plain requests and on upgrade requests.
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { fetchText, rawUpgrade, type Target } from '../../../src/api/testing/http-client.js';
import { eventually, kubeConfig, kubectl, testNamespace, uniqueName } from '../../support/env.js';
import { kubeletClientTls, startServer, type StartedServer } from './_helpers.js';

const nodeName = uniqueName('vk-api-auth');
const kc = kubeConfig();
const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const roleName = `${nodeName}-proxy`;
let started: StartedServer;
let namespace: { name: string; cleanup(): Promise<void> };
let deniedToken = '';
let allowedToken = '';

async function token(sa: string): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace: namespace.name, body: { metadata: { name: sa } } });
  const result = await kubectl(['create', 'token', sa, '-n', namespace.name]);
  if (result.exitCode !== 0) throw new Error(`kubectl create token: ${result.stderr}`);
  return result.stdout.trim();
}

test.before(async () => {
  namespace = await testNamespace(kc, 'vk-api');
  started = await startServer(nodeName);
  deniedToken = await token('denied');
  allowedToken = await token('allowed');
  // nodes/proxy on this node only: the review must name the node for the binding to apply.
  await rbac.createClusterRole({
    body: {
      metadata: { name: roleName },
      rules: [
        { apiGroups: [''], resources: ['nodes/proxy'], resourceNames: [nodeName], verbs: ['get', 'create'] },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: roleName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: 'allowed', namespace: namespace.name }],
    },
  });
  // RBAC reaches the authorizer through an informer: wait until it answers yes, so that our server never
  // caches an early "no" for 30 s.
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  await eventually('RBAC for the allowed ServiceAccount', async () => {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace.name}:allowed`,
          groups: [
            'system:serviceaccounts',
            `system:serviceaccounts:${namespace.name}`,
            'system:authenticated',
          ],
          resourceAttributes: { verb: 'create', resource: 'nodes', subresource: 'proxy', name: nodeName },
        },
      },
    });
    return review.status?.allowed ? true : undefined;
  });
});

test.after.always(async () => {
  await started?.server.close();
  await rbac.deleteClusterRoleBinding({ name: roleName }).catch(() => undefined);
  await rbac.deleteClusterRole({ name: roleName }).catch(() => undefined);
  await namespace?.cleanup();
});

const plain = (): Target => ({ port: started.port, https: true, tls: { rejectUnauthorized: false } });
const withCert = (): Target => ({ port: started.port, https: true, tls: kubeletClientTls() });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test.serial('the API server kubelet client certificate is accepted', async (t) => {
  t.like(await fetchText(withCert(), 'GET', '/healthz'), { status: 200, body: 'ok' });
  const pods = await fetchText(withCert(), 'GET', '/pods');
  t.is(pods.status, 200);
  t.is((JSON.parse(pods.body) as { items: unknown[] }).items.length, 1);
  t.like(await fetchText(withCert(), 'GET', '/containerLogs/default/web/main'), {
    status: 200,
    body: 'hello from web\n',
  });
});

test.serial('no credentials: 401 on every route and on an upgrade', async (t) => {
  for (const path of [
    '/healthz',
    '/pods',
    '/runningpods/',
    '/containerLogs/default/web/main',
    '/stats/summary',
    '/metrics/resource',
    '/metrics',
    '/nope',
  ]) {
    const reply = await fetchText(plain(), 'GET', path);
    t.is(reply.status, 401, path);
  }
  t.is((await fetchText(plain(), 'POST', '/run/default/web/main?cmd=ls')).status, 401);
  const upgrade = await rawUpgrade(plain(), 'POST', '/exec/default/web/main?command=ls&output=1', {});
  t.is(upgrade.status, 401);
  upgrade.socket.destroy();
  t.is(started.upgrades.length, 0);
});

test.serial('an invalid token is 401', async (t) => {
  t.is((await fetchText(plain(), 'GET', '/pods', bearer('not-a-token'))).status, 401);
});

test.serial('a ServiceAccount without nodes/proxy is forbidden on logs and exec', async (t) => {
  const user = `system:serviceaccount:${namespace.name}:denied`;
  const logs = await fetchText(plain(), 'GET', '/containerLogs/default/web/main', bearer(deniedToken));
  t.is(logs.status, 403);
  t.is(logs.body, `Forbidden (user=${user}, verb=get, resource=nodes, subresource(s)=[proxy])\n`);
  const exec = await rawUpgrade(plain(), 'POST', '/exec/default/web/main?command=ls&output=1', {
    Authorization: `Bearer ${deniedToken}`,
  });
  t.is(exec.status, 403);
  t.is(exec.rest, `Forbidden (user=${user}, verb=create, resource=nodes, subresource(s)=[proxy])\n`);
  exec.socket.destroy();
});

test.serial('a ServiceAccount granted nodes/proxy on this node reads logs and execs', async (t) => {
  const logs = await fetchText(
    plain(),
    'GET',
    '/containerLogs/default/web/main?tailLines=1',
    bearer(allowedToken),
  );
  t.like(logs, { status: 200, body: 'hello from web\n' });
  const exec = await rawUpgrade(plain(), 'POST', '/exec/default/web/main?command=ls&output=1', {
    Authorization: `Bearer ${allowedToken}`,
  });
  t.is(exec.status, 101);
  exec.socket.destroy();
  const upgraded = started.upgrades.at(-1);
  t.deepEqual(upgraded?.route, {
    kind: 'exec',
    pod: { namespace: 'default', name: 'web' },
    container: 'main',
  });
  // The transport never sees the token.
  t.is(upgraded?.req.headers.authorization, undefined);
  // nodes/proxy does not grant stats: that subresource has no fallback.
  const stats = await fetchText(plain(), 'GET', '/stats/summary', bearer(allowedToken));
  t.is(stats.status, 403);
  t.regex(stats.body, /subresource\(s\)=\[stats\]/);
});
