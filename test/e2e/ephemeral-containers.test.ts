// `kubectl debug` against a pod on the virtual node: ephemeral containers are not started yet, and the
// node says so instead of leaving the session waiting on nothing: the ephemeral container's status is
// waiting with CreateContainerError and the reason, and a Warning event names it.
import test from 'ava';
import { kubectl, testEnv } from '../support/env.js';
import { allRunning, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-ephemeral');

test('kubectl debug: the ephemeral container is reported as not created, with the reason and an event', async (t) => {
  await createPod(node.ns, 'target', podOn(node.vk.nodeName, { containers: [shell('main', 'sleep 3600')] }));
  await allRunning(node.ns, 'target');
  const debug = await kubectl([
    'debug',
    '-n',
    node.ns,
    'target',
    `--image=${testEnv.busyboxImage}`,
    '--image-pull-policy=IfNotPresent',
    '-c',
    'dbg',
    '--',
    'sleep',
    '60',
  ]);
  t.is(debug.exitCode, 0, debug.stderr);
  const pod = await podWhere(
    node.ns,
    'target',
    'ephemeral container status',
    (p) => p.status?.ephemeralContainerStatuses?.[0]?.state?.waiting !== undefined,
  );
  const status = pod.status?.ephemeralContainerStatuses?.[0];
  t.is(status?.name, 'dbg');
  t.is(status?.state?.waiting?.reason, 'CreateContainerError');
  t.regex(status?.state?.waiting?.message ?? '', /^ephemeral containers are not supported by this node/);
  // The pod itself goes on running.
  t.is(pod.status?.phase, 'Running');
  const events = await podEvents(node.ns, 'target');
  t.true(
    events.some(
      (e) =>
        e.type === 'Warning' &&
        e.reason === 'Failed' &&
        e.involvedObject.fieldPath === 'spec.ephemeralContainers{dbg}' &&
        (e.message ?? '').startsWith('Error: ephemeral containers are not supported'),
    ),
  );
});
