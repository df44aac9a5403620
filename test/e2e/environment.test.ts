// Smoke tests of the test environment itself: each proves one real component answers as it should.
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { strategicMergePatch } from '../../src/provider/kube/patch.js';
import {
  docker,
  eventually,
  kubeConfig,
  kubectl,
  testEnv,
  testNamespace,
  uniqueName,
} from '../support/env.js';

test('the control plane answers /readyz with ok', async (t) => {
  const result = await kubectl(['get', '--raw', '/readyz']);
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout.trim(), 'ok');
});

test('the scheduler binds a tolerating pod to a hand-made tainted node', async (t) => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const nodeName = uniqueName('smoke-node');
  const ns = await testNamespace(kc, 'smoke');
  t.teardown(async () => {
    await ns.cleanup();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
  });

  await core.createNode({
    body: {
      metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } },
      spec: { taints: [{ key: 'smoke-test', value: nodeName, effect: 'NoSchedule' }] },
    },
  });
  // A node has zero allocatable until its status says otherwise: give it room and a Ready condition.
  const now = new Date();
  // A patch, not a replace: a PUT to nodes/status would also replace (and so drop) the labels.
  await core.patchNodeStatus(
    {
      name: nodeName,
      body: {
        status: {
          capacity: { cpu: '4', memory: '8Gi', pods: '110' },
          allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'smoke',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      },
    },
    strategicMergePatch,
  );

  const podName = 'tolerating';
  await core.createNamespacedPod({
    namespace: ns.name,
    body: {
      metadata: { name: podName },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': nodeName },
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'c', image: testEnv.busyboxImage }],
      },
    },
  });
  const boundTo = await eventually('the pod to be bound', async () => {
    const pod = await core.readNamespacedPod({ name: podName, namespace: ns.name });
    return pod.spec?.nodeName;
  });
  t.is(boundTo, nodeName);
});

async function collectLogs(container: Docker.Container): Promise<string> {
  const raw = await container.logs({ stdout: true, stderr: true, follow: false });
  // Non-TTY logs are multiplexed: each frame has an 8-byte header whose last 4 bytes are the length.
  const chunks: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length;) {
    const length = raw.readUInt32BE(offset + 4);
    chunks.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

test('dockerd runs a busybox container whose logs come back through dockerode', async (t) => {
  const engine = docker();
  const container = await engine.createContainer({
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', 'echo hello from busybox; echo to stderr >&2'],
    Labels: { 'vic-kubelet.io/test': 'environment' },
  });
  t.teardown(() => container.remove({ force: true }));
  await container.start();
  const exit = (await container.wait()) as { StatusCode: number };
  t.is(exit.StatusCode, 0);
  const logs = await collectLogs(container);
  t.true(logs.includes('hello from busybox'));
  t.true(logs.includes('to stderr'));
});

function pull(
  engine: Docker,
  image: string,
  auth: { username: string; password: string; serveraddress: string },
) {
  return new Promise<void>((resolve, reject) => {
    engine.pull(image, { authconfig: auth }, (err: Error | null, stream?: NodeJS.ReadableStream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      engine.modem.followProgress(stream, (doneErr: Error | null) => (doneErr ? reject(doneErr) : resolve()));
    });
  });
}

test('a pull from the local registry succeeds with the right credentials and fails clearly with wrong ones', async (t) => {
  const engine = docker();
  const { host, user, password } = testEnv.registry;
  const image = `${host}/vic/busybox:latest`;
  await engine
    .getImage(image)
    .remove({ force: true })
    .catch(() => undefined);

  const denied = await t.throwsAsync(
    pull(engine, image, { username: user, password: 'wrong', serveraddress: host }),
  );
  t.regex(denied.message, /unauthorized|authentication required|no basic auth credentials/i);
  await t.throwsAsync(engine.getImage(image).inspect(), { message: /No such image/i });

  await pull(engine, image, { username: user, password, serveraddress: host });
  const inspected = (await engine.getImage(image).inspect()) as { RepoTags: string[] };
  t.true(inspected.RepoTags.includes(image));
  await engine.getImage(image).remove({ force: true });
});
