// The automatic kube-api-access volume on a virtual node, used as an in-cluster client-go client does:
// KUBERNETES_SERVICE_HOST/PORT reach the real API server from the pod VM, the bound token
// authenticates, RBAC decides (200 allowed, 403 refused), and once the pod is deleted the token is
// rejected (401). Then vic-kubelet's whole log of the run is searched for the token and the secret.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, kubectl, testEnv } from '../support/env.js';
import { inclusterImage } from '../support/incluster.js';
import { allRunning, core, createPod, podOn, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const podAddress = process.env.VK_APISERVER_POD_ADDRESS ?? '';
const logFile = join(mkdtempSync(join(tmpdir(), 'vk-token-')), 'vic-kubelet.log');
const node = virtualNodeForFile(test, 'vk-token', {
  args: ['--kubernetes-service-address', podAddress],
  logFile,
});
const secretValue = `pw-${Math.random().toString(36).slice(2)}-never-logged`;
let token = '';

async function exec(pod: string, container: string, command: string[]): Promise<string> {
  const r = await kubectl(['exec', '-n', node.ns, pod, '-c', container, '--', ...command]);
  if (r.exitCode !== 0) throw new Error(`exec in ${pod}/${container} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/** A GET to the API server with a bearer token, from the test host; resolves to the HTTP status. */
function statusWithToken(bearer: string, path: string): Promise<number> {
  const server = new URL(kubeConfig().getCurrentCluster()?.server ?? '');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        path,
        method: 'GET',
        ca: readFileSync(join(testEnv.pkiDir, 'ca.crt')),
        headers: { authorization: `Bearer ${bearer}` },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test.serial(
  'an in-cluster client in the pod VM uses its bound token: 200, 403, and 401 once the pod is gone',
  async (t) => {
    // The first run builds the Go client (about a minute on two cores).
    t.timeout(10 * 60_000);
    t.truthy(podAddress, 'VK_APISERVER_POD_ADDRESS is set by the test environment');
    const ns = node.ns;
    const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'pod-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
      },
    });
    await core().createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'db' }, stringData: { password: secretValue } },
    });
    const image = await inclusterImage();
    await createPod(ns, 'client', {
      ...on({
        containers: [
          { name: 'client', image, imagePullPolicy: 'Never', command: ['/incluster', 'sleep'] },
          shell('sh', 'sleep 3600', {
            env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
            volumeMounts: [{ name: 'db', mountPath: '/etc/db' }],
          }),
        ],
        volumes: [{ name: 'db', secret: { secretName: 'db' } }],
      }),
    });
    await allRunning(ns, 'client');

    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    t.is(await exec('client', 'sh', ['cat', `${dir}/namespace`]), ns);
    t.is(
      await exec('client', 'sh', ['cat', `${dir}/ca.crt`]),
      (await core().readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: ns })).data?.['ca.crt'] ??
        '',
    );
    const env = await exec('client', 'sh', [
      'sh',
      '-c',
      'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT',
    ]);
    t.is(env.trim(), podAddress);
    t.is((await exec('client', 'sh', ['cat', '/etc/db/password'])).trim(), secretValue);

    t.is(await exec('client', 'client', ['/incluster', `/api/v1/namespaces/${ns}/pods`]), 'status=200\n');
    t.is(await exec('client', 'client', ['/incluster', `/api/v1/namespaces/${ns}/secrets`]), 'status=403\n');

    token = (await exec('client', 'sh', ['cat', `${dir}/token`])).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      'kubernetes.io'?: { pod?: { name?: string } };
      exp?: number;
      iat?: number;
    };
    t.is(claims['kubernetes.io']?.pod?.name, 'client', 'the token is bound to the pod');
    t.is(await statusWithToken(token, `/api/v1/namespaces/${ns}/pods`), 200);

    await core().deleteNamespacedPod({ name: 'client', namespace: ns });
    await eventually(
      'the pod deleted',
      async () =>
        (await core()
          .readNamespacedPod({ name: 'client', namespace: ns })
          .then(() => undefined)
          .catch(() => true)) ?? undefined,
      { timeoutMs: 60_000 },
    );
    let last = 0;
    await eventually(
      'the token rejected after the pod is gone',
      async () => {
        last = await statusWithToken(token, `/api/v1/namespaces/${ns}/pods`);
        return last === 401 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch((err: unknown) => {
      throw new Error(`last status ${last}`, { cause: err });
    });
    t.is(last, 401, 'the token of a deleted pod is refused');
  },
);

test.serial("vic-kubelet's whole log of the run holds neither the secret value nor the token", (t) => {
  t.truthy(token, 'the previous test read the token');
  const log = readFileSync(logFile, 'utf8');
  t.true(log.length > 1000, 'the log was captured');
  t.is(log.split(secretValue).length - 1, 0, 'secret value hits');
  t.is(log.split(token).length - 1, 0, 'token hits');
  // The token's signature alone, in case it was logged cut or re-encoded.
  t.false(log.includes(token.split('.')[2] ?? token), 'token signature hits');
});

function on(spec: Parameters<typeof podOn>[1]) {
  return podOn(node.vk.nodeName, spec);
}
