// The kubelet API as the real API server reaches it: a Node object pointing at our server, a pod bound to
// it, and `kubectl logs` (plain and follow) going through the API server, which dials us with its kubelet
// client certificate. (Node proxy requests are refused by the API server for a loopback address.)
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { StreamReader } from '../../../src/api/testing/http-client.js';
import { fakePod } from '../../../src/api/testing/fake-provider.js';
import { eventually, kubeConfig, kubectl, testEnv, testNamespace, uniqueName } from '../../support/env.js';
import { startServer, type StartedServer } from './_helpers.js';

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const nodeName = uniqueName('vk-api-proxy');
let started: StartedServer;
let namespace: { name: string; cleanup(): Promise<void> };

test.before(async () => {
  namespace = await testNamespace(kc, 'vk-api-proxy');
  started = await startServer(nodeName);
  await core.createNode({ body: { metadata: { name: nodeName } } });
  const node = await core.readNode({ name: nodeName });
  await core.replaceNodeStatus({
    name: nodeName,
    body: {
      ...node,
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: started.port } },
      },
    },
  });
  await core.createNamespacedPod({
    namespace: namespace.name,
    body: {
      metadata: { name: 'web' },
      spec: { nodeName, containers: [{ name: 'main', image: testEnv.busyboxImage }] },
    },
  });
  started.provider.pods.push(fakePod(namespace.name, 'web', ['main']));
  started.provider.logs.set(`${namespace.name}/web/main`, 'through the API server\n');
});

test.after.always(async () => {
  await started?.server.close();
  // No kubelet will confirm the pod's deletion: remove it at once, then the node.
  if (namespace) {
    await core
      .deleteNamespacedPod({ name: 'web', namespace: namespace.name, gracePeriodSeconds: 0 })
      .catch(() => undefined);
  }
  await core.deleteNode({ name: nodeName }).catch(() => undefined);
  await namespace?.cleanup();
});

test.serial('kubectl logs reaches the provider through the API server', async (t) => {
  const result = await kubectl(['logs', '-n', namespace.name, 'web', '-c', 'main', '--tail=3']);
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout, 'through the API server\n');
  t.like(started.provider.logRequests.at(-1), {
    pod: { namespace: namespace.name, name: 'web' },
    container: 'main',
    options: { follow: false, tailLines: 3 },
  });
});

test.serial('an unknown container is NotFound for kubectl', async (t) => {
  started.provider.pods = started.provider.pods.map((p) =>
    p.metadata?.namespace === namespace.name ? fakePod(namespace.name, 'web', ['other']) : p,
  );
  t.teardown(() => {
    started.provider.pods = started.provider.pods.map((p) =>
      p.metadata?.namespace === namespace.name ? fakePod(namespace.name, 'web', ['main']) : p,
    );
  });
  const result = await kubectl(['logs', '-n', namespace.name, 'web', '-c', 'main']);
  t.not(result.exitCode, 0);
  // The API server turns the kubelet's 404 into its own NotFound; the message does not pass through.
  t.regex(result.stderr, /NotFound/);
});

test.serial(
  'a follow stream flows through the API server and ends at the provider when the client leaves',
  async (t) => {
    const pki = testEnv.pkiDir;
    const server = new URL(kc.getCurrentCluster()?.server ?? '');
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          host: server.hostname,
          port: server.port,
          path: `/api/v1/namespaces/${namespace.name}/pods/web/log?container=main&follow=true`,
          ca: readFileSync(join(pki, 'ca.crt')),
          cert: readFileSync(join(pki, 'admin.crt')),
          key: readFileSync(join(pki, 'admin.key')),
          agent: false,
        },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    t.is(res.statusCode, 200);
    const reader = new StreamReader(res);
    const follow = await eventually('the follow stream at the provider', async () =>
      started.provider.follows.find((f) => f.pod.namespace === namespace.name),
    );
    follow.stream.write('first\n');
    await reader.until('first\n');
    follow.stream.write('second\n');
    await reader.until('second\n');
    res.destroy();
    await new Promise<void>((resolve) =>
      follow.stream.destroyed ? resolve() : follow.stream.once('close', resolve),
    );
    t.true(follow.signal.aborted);
  },
);
