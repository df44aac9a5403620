import test from 'ava';
import { buildLabels, dockerName, Label, parseLabels, podFilter, podNameFilter, specHash } from './labels.js';

const pod = { namespace: 'team-a', name: 'web-0', uid: '0f4c6a52-3e1b-4c3e-9d0a-2b7c8e1f9a10' };

test('labels written for a container read back to the same identity', (t) => {
  const labels = buildLabels({
    nodeName: 'vic-node',
    pod,
    containerName: 'app',
    role: 'app',
    attempt: 2,
    index: 1,
    specHash: 'abc',
  });
  t.deepEqual(parseLabels(labels), {
    nodeName: 'vic-node',
    pod,
    containerName: 'app',
    role: 'app',
    attempt: 2,
    index: 1,
    specHash: 'abc',
  });
});

test('the sandbox carries the grace period so a stop after a restart still honours it', (t) => {
  const labels = buildLabels({
    nodeName: 'n',
    pod,
    containerName: 'POD',
    role: 'sandbox',
    attempt: 0,
    index: 0,
    terminationGracePeriodSeconds: 45,
  });
  t.is(labels[Label.gracePeriod], '45');
  t.is(parseLabels(labels)?.terminationGracePeriodSeconds, 45);
});

test('containers without a complete label set are not taken for ours', (t) => {
  const labels = buildLabels({ nodeName: 'n', pod, containerName: 'app', role: 'app', attempt: 0, index: 0 });
  t.is(parseLabels(undefined), undefined);
  t.is(parseLabels({}), undefined);
  t.is(parseLabels({ ...labels, [Label.managed]: 'false' }), undefined);
  t.is(parseLabels({ ...labels, [Label.role]: 'sidecar' }), undefined);
  t.is(parseLabels({ ...labels, [Label.attempt]: '-1' }), undefined);
  const { [Label.podUid]: _uid, ...withoutUid } = labels;
  t.is(parseLabels(withoutUid), undefined);
});

test('Docker names are deterministic, so a repeated create collides instead of duplicating', (t) => {
  t.is(dockerName(pod, 'app', 3), 'k8s_app_web-0_team-a_0f4c6a52-3e1b-4c3e-9d0a-2b7c8e1f9a10_3');
  t.is(dockerName(pod, 'app', 3), dockerName({ ...pod }, 'app', 3));
  t.not(dockerName(pod, 'app', 3), dockerName({ ...pod, uid: 'other' }, 'app', 3));
});

test('filters select a node and then one pod', (t) => {
  t.deepEqual(podFilter('n1', 'u1'), [`${Label.managed}=true`, `${Label.node}=n1`, `${Label.podUid}=u1`]);
  t.deepEqual(podNameFilter('n1', { namespace: 'ns', name: 'p' }), [
    `${Label.managed}=true`,
    `${Label.node}=n1`,
    `${Label.podNamespace}=ns`,
    `${Label.podName}=p`,
  ]);
});

test('the spec hash ignores key order and undefined fields but sees every change', (t) => {
  const a = specHash({ name: 'app', image: 'busybox', args: ['a'] });
  t.is(a, specHash({ args: ['a'], image: 'busybox', name: 'app', command: undefined }));
  t.not(a, specHash({ name: 'app', image: 'busybox', args: ['b'] }));
  t.regex(a, /^[0-9a-f]{16}$/);
});

test('the resources a vm-per-pod container asked for round-trip through its labels; a bad label is ignored', (t) => {
  const m = {
    nodeName: 'n',
    pod: { namespace: 'ns', name: 'p', uid: 'u' },
    containerName: 'main',
    role: 'app' as const,
    attempt: 0,
    index: 0,
    askedResources: { nanoCpus: 500_000_000, memoryBytes: 128 * 1024 ** 2 },
  };
  t.deepEqual(parseLabels(buildLabels(m))?.askedResources, m.askedResources);
  const bad = { ...buildLabels(m), [Label.askedResources]: '{not json' };
  t.is(parseLabels(bad)?.askedResources, undefined);
});
