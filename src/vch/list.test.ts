import test from 'ava';
import { buildLabels } from './labels.js';
import { groupPodVms, isVirtualSandbox, latestMembers, networkOwner, type MemberSource } from './list.js';
import type { ContainerRole } from './types.js';

const podA = { namespace: 'ns', name: 'a', uid: 'uid-a' };
const podB = { namespace: 'ns', name: 'b', uid: 'uid-b' };

function src(
  id: string,
  pod: typeof podA,
  name: string,
  role: ContainerRole,
  attempt = 0,
  index = 0,
): MemberSource {
  return {
    id,
    name: `k8s_${name}_${attempt}`,
    image: 'img',
    state: 'running',
    createdAt: new Date(0),
    labels: buildLabels({
      nodeName: 'n',
      pod,
      containerName: name,
      role,
      attempt,
      index,
      ...(role === 'sandbox' ? { terminationGracePeriodSeconds: 9 } : {}),
    }),
  };
}

test('containers group into pod VMs by UID, from labels alone', (t) => {
  const vms = groupPodVms([
    src('a-app', podA, 'app', 'app'),
    src('b-sb', podB, 'POD', 'sandbox'),
    src('a-sb', podA, 'POD', 'sandbox'),
    src('a-init2', podA, 'second', 'init', 0, 1),
    src('a-init1', podA, 'first', 'init', 0, 0),
    { id: 'foreign', name: 'x', image: 'i', state: 'running', createdAt: new Date(0), labels: { app: 'x' } },
  ]);
  t.is(vms.length, 2);
  const a = vms.find((v) => v.pod.uid === 'uid-a');
  t.deepEqual(a?.pod, podA);
  t.is(a?.sandbox?.id, 'a-sb');
  t.is(a?.terminationGracePeriodSeconds, 9);
  // Init containers first and in spec order, then app containers.
  t.deepEqual(
    a?.members.map((m) => m.id),
    ['a-init1', 'a-init2', 'a-app'],
  );
  t.deepEqual(vms.find((v) => v.pod.uid === 'uid-b')?.members, []);
});

test('the newest attempt of each container is its current one', (t) => {
  const [vm] = groupPodVms([
    src('old', podA, 'app', 'app', 0),
    src('new', podA, 'app', 'app', 1),
    src('sb', podA, 'POD', 'sandbox'),
  ]);
  t.deepEqual(vm && latestMembers(vm).map((m) => m.id), ['new']);
});

test('a vm-per-pod pod VM shows a sandbox record of no container, and its grace period from any member', (t) => {
  const labels = buildLabels({
    nodeName: 'n',
    pod: podA,
    containerName: 'app',
    role: 'app',
    attempt: 0,
    index: 0,
    layout: 'vm-per-pod',
    terminationGracePeriodSeconds: 4,
  });
  const [vm] = groupPodVms([
    { id: 'c1', name: 'k8s_app', image: 'img', state: 'exited', createdAt: new Date(5), labels },
  ]);
  t.is(vm?.layout, 'vm-per-pod');
  t.is(vm?.terminationGracePeriodSeconds, 4);
  t.like(vm?.sandbox, { id: 'vm-per-pod:uid-a', role: 'sandbox', state: 'running' });
  t.true(isVirtualSandbox(vm?.sandbox?.id ?? ''));
  t.is(networkOwner(vm!)?.id, 'c1');
  t.deepEqual(
    vm?.members.map((m) => m.id),
    ['c1'],
  );
});
