// Pod VM lifecycle against the real Docker engine: create, start, stop, remove, repeat, crash recovery.
import test from 'ava';
import { VicError } from '../../../src/shared/errors.js';
import { Label } from '../../../src/vch/labels.js';
import {
  cleanupNode,
  container,
  dockerContainersOf,
  makeVch,
  podSpec,
  rawDocker,
  uniqueNode,
} from './_helpers.js';

const node = uniqueNode('lifecycle');
const vch = makeVch(node);

test.after.always(async () => {
  vch.close();
  await cleanupNode(node);
});

test('a pod VM is created, started, reports its status, stopped and removed', async (t) => {
  const spec = podSpec(node, 'basic', [
    container('app', { command: ['sleep', '3600'], ports: [{ containerPort: 8080 }] }),
    container('side', { command: ['sh', '-c', 'echo side; sleep 3600'] }),
  ]);
  const vm = await vch.pods.create(spec);
  t.truthy(vm.sandbox);
  t.deepEqual(
    vm.members.map((m) => [m.name, m.role, m.attempt, m.state]),
    [
      ['app', 'app', 0, 'created'],
      ['side', 'app', 0, 'created'],
    ],
  );

  await vch.pods.start(spec.pod.uid);
  const status = await vch.pods.status(spec.pod.uid);
  t.is(status?.sandbox?.state.kind, 'running');
  t.regex(status?.podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  t.deepEqual(
    status?.containers.map((c) => [c.name, c.state.kind, c.restartCount]),
    [
      ['app', 'running', 0],
      ['side', 'running', 0],
    ],
  );
  const app = status?.containers[0];
  // Plain Docker IDs: the docker:// spelling is the provider's.
  t.regex(app?.id ?? '', /^[0-9a-f]{64}$/);
  t.regex(app?.imageId ?? '', /^sha256:[0-9a-f]{64}$/);
  t.is(app?.image, 'vic-test/busybox:latest');

  // Ports and hostname belong to the sandbox; the containers share its network.
  const docker = rawDocker();
  const sandbox = await docker.getContainer(vm.sandbox!.id).inspect();
  t.deepEqual(Object.keys(sandbox.Config.ExposedPorts ?? {}), ['8080/tcp']);
  t.is(sandbox.Config.Hostname, 'basic');
  const appInfo = await docker.getContainer(vm.members[0]!.id).inspect();
  t.is(appInfo.HostConfig.NetworkMode, `container:${vm.sandbox!.id}`);

  await vch.pods.stop(spec.pod.uid, 0);
  const stopped = await vch.pods.status(spec.pod.uid);
  t.deepEqual(
    stopped?.containers.map((c) => c.state.kind),
    ['terminated', 'terminated'],
  );
  t.is(stopped?.sandbox?.state.kind, 'terminated');
  t.is(stopped?.podIP, undefined);

  await vch.pods.remove(spec.pod.uid);
  t.deepEqual(await dockerContainersOf(spec.pod.uid), []);
  t.is(await vch.pods.status(spec.pod.uid), undefined);
});

test('create, start, stop and remove can all be repeated without effect', async (t) => {
  const spec = podSpec(node, 'repeat', [container('app', { command: ['sleep', '3600'] })]);
  const first = await vch.pods.create(spec);
  const second = await vch.pods.create(spec);
  t.is(second.sandbox?.id, first.sandbox?.id);
  t.deepEqual(
    second.members.map((m) => m.id),
    first.members.map((m) => m.id),
  );
  await vch.pods.start(spec.pod.uid);
  await vch.pods.start(spec.pod.uid);
  await vch.pods.create(spec);
  t.is((await dockerContainersOf(spec.pod.uid)).length, 2);
  await vch.pods.stop(spec.pod.uid, 0);
  await vch.pods.stop(spec.pod.uid, 0);
  await vch.pods.remove(spec.pod.uid);
  await vch.pods.remove(spec.pod.uid);
  t.deepEqual(await dockerContainersOf(spec.pod.uid), []);
});

test('concurrent creates of one pod VM make one set of containers', async (t) => {
  const spec = podSpec(node, 'race', [container('app', { command: ['sleep', '3600'] })]);
  const [a, b] = await Promise.all([vch.pods.create(spec), vch.pods.create(spec)]);
  t.is(a.sandbox?.id, b.sandbox?.id);
  t.is((await dockerContainersOf(spec.pod.uid)).length, 2);
  await vch.pods.remove(spec.pod.uid);
});

test('a create interrupted half-way is adopted, never duplicated, and its leftovers are removed', async (t) => {
  const spec = podSpec(node, 'crash', [
    container('one', { command: ['sleep', '3600'] }),
    container('two', { command: ['sleep', '3600'] }),
  ]);
  // What a crash leaves: the sandbox and the first container, nothing more.
  const sandbox = await vch.pods.ensureSandbox(spec);
  const one = await vch.pods.createContainer(spec, 'one');
  t.is((await dockerContainersOf(spec.pod.uid)).length, 2);

  const vm = await vch.pods.create(spec);
  t.is(vm.sandbox?.id, sandbox.id);
  t.is(vm.members.find((m) => m.name === 'one')?.id, one.id);
  const names = (await dockerContainersOf(spec.pod.uid)).map((c) => c.Labels[Label.containerName]).sort();
  t.deepEqual(names, ['POD', 'one', 'two']);

  // A crash during remove leaves some containers: a second remove takes the rest.
  await rawDocker().getContainer(one.id).remove({ force: true });
  await vch.pods.remove(spec.pod.uid);
  t.deepEqual(await dockerContainersOf(spec.pod.uid), []);
});

test('a container created by Docker name clash is adopted when it is ours', async (t) => {
  const spec = podSpec(node, 'adopt', [container('app', { command: ['sleep', '3600'] })]);
  await vch.pods.ensureSandbox(spec);
  const created = await vch.pods.createContainer(spec, 'app', 0);
  // Asking for the same attempt again, as a provider that lost its memory would.
  const again = await vch.pods.createContainer(spec, 'app', 0);
  t.is(again.id, created.id);
  await vch.pods.remove(spec.pod.uid);
});

test('a foreign container that holds our Docker name is a Conflict with what to do', async (t) => {
  const spec = podSpec(node, 'squat', [container('app', { command: ['sleep', '3600'] })]);
  const docker = rawDocker();
  const squatter = await docker.createContainer({
    name: `k8s_POD_squat_default_${spec.pod.uid}_0`,
    Image: 'vic-test/pause:latest',
    Labels: { [Label.node]: node },
  });
  const err = await t.throwsAsync(vch.pods.create(spec), { instanceOf: VicError });
  t.is(err?.code, 'Conflict');
  t.regex(err?.message ?? '', /did not create.*remove it/);
  await squatter.remove({ force: true });
});

test('every pod VM of the node is listed from labels alone', async (t) => {
  const listNode = uniqueNode('list');
  const other = makeVch(listNode);
  try {
    const a = podSpec(listNode, 'list-a', [container('app', { command: ['sleep', '3600'] })]);
    const b = podSpec(
      listNode,
      'list-b',
      [container('x', { args: ['true'] }), container('y', { args: ['true'] })],
      {
        initContainers: [container('setup', { args: ['true'] })],
      },
    );
    await other.pods.create(a);
    await other.pods.create(b);
    // A new facade knows nothing but what the VCH says.
    const fresh = makeVch(listNode);
    const list = await fresh.pods.list();
    fresh.close();
    t.deepEqual(list.map((vm) => vm.pod.name).sort(), ['list-a', 'list-b']);
    const vmB = list.find((vm) => vm.pod.uid === b.pod.uid);
    t.deepEqual(vmB?.pod, b.pod);
    t.is(vmB?.terminationGracePeriodSeconds, 1);
    // One pod's list, by namespace and name, is that pod VM alone, as the engine filtered it.
    const onlyB = await other.pods.list({ namespace: b.pod.namespace, name: b.pod.name });
    t.deepEqual(
      onlyB.map((vm) => vm.pod.uid),
      [b.pod.uid],
    );
    t.deepEqual(
      vmB?.members.map((m) => [m.name, m.role, m.index]),
      [
        ['setup', 'init', 0],
        ['x', 'app', 0],
        ['y', 'app', 1],
      ],
    );
    // Another node's pod VMs never show up in this node's list (one call: other tests change it).
    const mine = await vch.pods.list();
    t.true(mine.every((vm) => vm.nodeName === node));
    t.false(mine.some((vm) => vm.pod.uid === a.pod.uid || vm.pod.uid === b.pod.uid));
  } finally {
    other.close();
    await cleanupNode(listNode);
  }
});

test('status after exit tells exit code and reason, and a restart keeps the previous attempt', async (t) => {
  const spec = podSpec(node, 'exits', [container('app', { command: ['sh', '-c', 'echo run; exit 3'] })], {
    initContainers: [container('init', { command: ['true'] })],
  });
  const vm = await vch.pods.create(spec);
  await vch.pods.startContainer(vm.sandbox!.id);
  const init = vm.members.find((m) => m.name === 'init')!;
  await vch.pods.startContainer(init.id);
  t.deepEqual(await vch.pods.waitContainer(init.id), { exitCode: 0 });
  const app = vm.members.find((m) => m.name === 'app')!;
  await vch.pods.startContainer(app.id);
  t.deepEqual(await vch.pods.waitContainer(app.id), { exitCode: 3 });

  const status = await vch.pods.status(spec.pod.uid);
  t.like(status?.initContainers[0]?.state, { kind: 'terminated', exitCode: 0, reason: 'Completed' });
  const appState = status?.containers[0]?.state;
  t.like(appState, { kind: 'terminated', exitCode: 3, reason: 'Error' });
  // Both times are there (Docker may stamp the start a hair after a fast exit: no order is asserted).
  t.true(
    appState?.kind === 'terminated' &&
      appState.startedAt instanceof Date &&
      appState.finishedAt instanceof Date,
  );

  // The provider restarts it: a new attempt; the old one stays for logs --previous.
  const next = await vch.pods.createContainer(spec, 'app', 1);
  await vch.pods.startContainer(next.id);
  await vch.pods.waitContainer(next.id);
  const after = await vch.pods.status(spec.pod.uid);
  t.is(after?.containers.length, 1);
  t.is(after?.containers[0]?.restartCount, 1);
  t.like(after?.containers[0]?.lastState, { kind: 'terminated', exitCode: 3 });

  // Another restart removes the attempt before the previous one.
  const third = await vch.pods.createContainer(spec, 'app', 2);
  const attempts = (await dockerContainersOf(spec.pod.uid))
    .filter((c) => c.Labels[Label.containerName] === 'app')
    .map((c) => c.Labels[Label.attempt])
    .sort();
  t.deepEqual(attempts, ['1', '2']);
  t.is(third.attempt, 2);
  await vch.pods.remove(spec.pod.uid);
});

test("a container that cannot start reports StartError with Docker's reason", async (t) => {
  const spec = podSpec(node, 'nostart', [container('app', { command: ['/no/such/binary'] })]);
  const vm = await vch.pods.create(spec);
  await vch.pods.startContainer(vm.sandbox!.id);
  const err = await t.throwsAsync(vch.pods.startContainer(vm.members[0]!.id), { instanceOf: VicError });
  t.regex(err?.message ?? '', /no such file or directory/);
  const status = await vch.pods.status(spec.pod.uid);
  t.like(status?.containers[0]?.state, { kind: 'terminated', reason: 'StartError', exitCode: 127 });
  await vch.pods.remove(spec.pod.uid);
});

test('limits reach Docker and a stop with grace lets a process that handles SIGTERM exit cleanly', async (t) => {
  const spec = podSpec(
    node,
    'limits',
    [
      container('app', {
        command: ['sh', '-c', 'trap "echo bye; exit 0" TERM; while true; do sleep 1; done'],
        resources: {
          limits: { nanoCpus: 250_000_000, memoryBytes: 64 * 2 ** 20 },
          requests: { nanoCpus: 100_000_000 },
        },
      }),
    ],
    { terminationGracePeriodSeconds: 20 },
  );
  const vm = await vch.pods.create(spec);
  const info = await rawDocker().getContainer(vm.members[0]!.id).inspect();
  t.is(info.HostConfig.NanoCpus, 250_000_000);
  t.is(info.HostConfig.Memory, 64 * 2 ** 20);
  t.is(info.HostConfig.CpuShares, 102);
  await vch.pods.start(spec.pod.uid);
  // The grace period comes back from the sandbox's labels; the trap answers long before it ends.
  await vch.pods.stop(spec.pod.uid);
  const status = await vch.pods.status(spec.pod.uid);
  t.like(status?.containers[0]?.state, { kind: 'terminated', exitCode: 0, reason: 'Completed' });
  await vch.pods.remove(spec.pod.uid);
});

test('a spec Docker cannot name is refused before anything is created', async (t) => {
  const spec = podSpec(node, 'bad', [container('Bad_Name')]);
  const err = await t.throwsAsync(vch.pods.create(spec), { instanceOf: VicError });
  t.is(err?.code, 'Invalid');
  t.regex(err?.message ?? '', /"Bad_Name" is not a DNS label/);
  t.deepEqual(await dockerContainersOf(spec.pod.uid), []);
});
