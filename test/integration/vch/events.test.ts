// The event stream against the real Docker engine: delivery, a dropped connection resumed without loss.
import test from 'ava';
import type { VchEvent } from '../../../src/vch/index.js';
import { cleanupNode, container, makeVch, podSpec, startProxy, uniqueNode } from './_helpers.js';

const node = uniqueNode('events');
const vch = makeVch(node);

test.after.always(async () => {
  vch.close();
  await cleanupNode(node);
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

function actionsOf(events: VchEvent[], uid: string, name: string): string[] {
  return events.filter((e) => e.podUid === uid && e.containerName === name).map((e) => e.action);
}

test('container changes of the node arrive as plain events, exit code included', async (t) => {
  const events: VchEvent[] = [];
  const watch = vch.watch({ onEvent: (e) => events.push(e) });
  try {
    // Let the subscription open before anything happens.
    await new Promise((r) => setTimeout(r, 300));
    const spec = podSpec(node, 'ev', [container('app', { command: ['sh', '-c', 'exit 4'] })]);
    const vm = await vch.pods.create(spec);
    await vch.pods.start(spec.pod.uid);
    await vch.pods.waitContainer(vm.members[0]!.id);
    await until(() => actionsOf(events, spec.pod.uid, 'app').includes('die'));
    t.deepEqual(actionsOf(events, spec.pod.uid, 'app'), ['create', 'start', 'die']);
    const die = events.find(
      (e) => e.podUid === spec.pod.uid && e.action === 'die' && e.containerName === 'app',
    );
    t.like(die, {
      podNamespace: 'default',
      podName: 'ev',
      role: 'app',
      attempt: 0,
      exitCode: 4,
      containerId: vm.members[0]!.id,
    });
    t.true(die!.time instanceof Date);
    t.deepEqual(actionsOf(events, spec.pod.uid, 'POD'), ['create', 'start']);
  } finally {
    watch.stop();
  }
});

test('events of other nodes do not arrive', async (t) => {
  const otherNode = uniqueNode('events-other');
  const other = makeVch(otherNode);
  const events: VchEvent[] = [];
  const watch = vch.watch({ onEvent: (e) => events.push(e) });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const foreign = podSpec(otherNode, 'foreign', [container('app', { command: ['true'] })]);
    await other.pods.create(foreign);
    const mine = podSpec(node, 'mine', [container('app', { command: ['true'] })]);
    await vch.pods.create(mine);
    await until(() => events.some((e) => e.podUid === mine.pod.uid && e.containerName === 'app'));
    t.true(events.some((e) => e.podUid === mine.pod.uid));
    t.false(events.some((e) => e.podUid === foreign.pod.uid));
  } finally {
    watch.stop();
    other.close();
    await cleanupNode(otherNode);
  }
});

test('a dropped event stream resumes and delivers, once each, what happened while it was down', async (t) => {
  const proxy = await startProxy();
  const watched = makeVch(node, { endpoint: proxy.endpoint });
  const events: VchEvent[] = [];
  let resyncs = 0;
  const watch = watched.watch({ onEvent: (e) => events.push(e), onResync: () => void resyncs++ });
  try {
    const before = podSpec(node, 'before', [container('app', { command: ['true'] })]);
    await until(() => proxy.open() > 0);
    await vch.pods.create(before);
    await until(() => actionsOf(events, before.pod.uid, 'app').includes('create'));
    t.deepEqual(actionsOf(events, before.pod.uid, 'app'), ['create']);

    // The network drops; reconnects fail for a while; meanwhile the pod runs and exits.
    proxy.setDown(true);
    proxy.drop();
    const during = podSpec(node, 'during', [container('app', { command: ['sh', '-c', 'exit 2'] })]);
    const vm = await vch.pods.create(during);
    await vch.pods.start(during.pod.uid);
    await vch.pods.waitContainer(vm.members[0]!.id);
    const beforeVm = await vch.pods.get(before.pod.uid);
    await vch.pods.startContainer(beforeVm!.sandbox!.id);
    t.deepEqual(actionsOf(events, during.pod.uid, 'app'), []);

    proxy.setDown(false);
    await until(() => actionsOf(events, during.pod.uid, 'app').includes('die'));
    t.deepEqual(actionsOf(events, during.pod.uid, 'app'), ['create', 'start', 'die']);
    t.is(events.find((e) => e.podUid === during.pod.uid && e.action === 'die')?.exitCode, 2);
    // What was seen before the drop is not delivered again, even though the resume reaches back.
    t.deepEqual(actionsOf(events, before.pod.uid, 'app'), ['create']);
    t.deepEqual(actionsOf(events, before.pod.uid, 'POD'), ['create', 'start']);
    // After a reconnect the safety-net resync runs too.
    t.true(resyncs >= 1);
  } finally {
    watch.stop();
    watched.close();
    await proxy.close();
  }
});
