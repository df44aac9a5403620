// The VIC contract proxy itself, in front of the real engine: it says it is a vSphere Integrated
// Containers VCH, refuses what VIC refuses with VIC's texts and codes, and passes everything else through,
// streams included. Through it, src/vch knows the VCH as VIC and lays a pod out as one VM; the shared
// layout, forced on it, is refused as VIC would refuse it. An operator's layout override is honoured.
import { PassThrough } from 'node:stream';
import test from 'ava';
import Docker from 'dockerode';
import { createVch, type PodVmSpec, type VchEvent } from '../../src/vch/index.js';
import {
  docker,
  eventually,
  kubeConfig,
  kubectl,
  testEnv,
  testNamespace,
  uniqueName,
} from '../support/env.js';
import { containerStatus, core, createPod, podOn, podWhere, shell } from '../support/pods.js';
import { podVmContainers, removePodVms, VicKubelet } from '../support/vic-kubelet.js';
import { notImplemented, vicProxyForFile } from '../support/vic-proxy.js';

const vic = vicProxyForFile(test, testEnv.dockerHost);
const viaProxy = () => new Docker({ socketPath: vic.endpoint.slice('unix://'.length) });

function specFor(nodeName: string, name: string, script: string): PodVmSpec {
  return {
    pod: { namespace: 'vic-proxy', name, uid: uniqueName('uid') },
    nodeName,
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'main',
        image: testEnv.busyboxImage,
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', script],
        resources: { limits: { memoryBytes: 64 * 2 ** 20, nanoCpus: 1e9 } },
      },
    ],
  };
}

/** Status and message of a refused call through dockerode. */
async function refusal(p: Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { statusCode?: number; json?: { message?: string } };
    return { status: e.statusCode, message: e.json?.message ?? String(err) };
  }
  throw new Error('the call was not refused');
}

test('/version and /info say vSphere Integrated Containers, as a VIC VCH says it', async (t) => {
  const version = await viaProxy().version();
  t.like(version, { Version: '1.5.6', ApiVersion: '1.25', MinAPIVersion: '1.19', KernelVersion: '-' });
  const info = (await viaProxy().info()) as Record<string, unknown>;
  t.like(info, {
    ID: 'vSphere Integrated Containers',
    Driver: 'vSphere Integrated Containers v1.5.6 Backend Engine',
    ServerVersion: 'v1.5.6',
  });
});

test('what VIC refuses is refused with VIC’s texts and status codes', async (t) => {
  const base = { Image: testEnv.busyboxImage, Cmd: ['true'] };
  const create = (hostConfig: Docker.HostConfig) =>
    refusal(viaProxy().createContainer({ ...base, HostConfig: hostConfig }));
  t.deepEqual(await create({ Binds: ['/etc:/host-etc'] }), {
    status: 500,
    message: 'mounting directories as a data volume is not supported.',
  });
  t.deepEqual(await create({ NetworkMode: 'container:abc' }), {
    status: 500,
    message: notImplemented('NetworkMode container: (shared network namespaces)'),
  });
  t.deepEqual(await create({ IpcMode: 'shareable' }), {
    status: 500,
    message: notImplemented('IpcMode shareable'),
  });
  t.deepEqual(await create({ PidMode: 'host' }), { status: 500, message: notImplemented('PidMode host') });
  t.deepEqual(await create({ Privileged: true }), {
    status: 500,
    message: notImplemented('privileged containers'),
  });
  t.deepEqual(await create({ CapAdd: ['NET_ADMIN'] }), { status: 500, message: notImplemented('CapAdd') });
  t.deepEqual(await create({ Tmpfs: { '/run': '' } }), { status: 500, message: notImplemented('Tmpfs') });
  t.deepEqual(await create({ VolumesFrom: ['other'] }), {
    status: 500,
    message: notImplemented('VolumesFrom'),
  });
  t.is(
    (await create({ PortBindings: { '80/tcp': [{ HostIp: '10.9.9.9', HostPort: '80' }] } })).message,
    'Server error from portlayer: host IP for port bindings is only supported for 0.0.0.0 and the public interface IP address',
  );
  t.deepEqual(await refusal(viaProxy().getContainer('anything').update({ Memory: 1 })), {
    status: 500,
    message: 'vSphere Integrated Containers does not yet implement ContainerUpdate',
  });
  const newer = new Docker({ socketPath: vic.endpoint.slice('unix://'.length), version: 'v1.41' });
  t.deepEqual(await refusal(newer.listContainers()), {
    status: 400,
    message: 'client version 1.41 is too new. Maximum supported API version is 1.25',
  });
  t.true(vic.proxy.refused.length >= 10, 'each refusal is recorded');
});

test('network connect is refused for a running container, as VIC documents', async (t) => {
  const c = await docker().createContainer({ Image: testEnv.busyboxImage, Cmd: ['sleep', '60'] });
  t.teardown(() => c.remove({ force: true }));
  await c.start();
  const net = await docker().createNetwork({ Name: uniqueName('vk-vic-net') });
  t.teardown(() => net.remove());
  t.deepEqual(await refusal(viaProxy().getNetwork(net.id).connect({ Container: c.id })), {
    status: 500,
    message: notImplemented('ConnectContainerToNetwork for a running container'),
  });
});

test.serial(
  'src/vch knows the proxy as VIC and lays a pod out as one VM: create, start, exec, logs, events pass through',
  async (t) => {
    const nodeName = uniqueName('vk-vic-vch');
    const vch = createVch({ endpoint: vic.endpoint, nodeName });
    const refusedBefore = vic.proxy.refused.length;
    t.teardown(async () => {
      vch.close();
      await removePodVms(nodeName);
    });
    const profile = await vch.knowledge.detect();
    t.is(profile.identity.product, 'vic');
    t.is(profile.layout, 'vm-per-pod');
    const events: VchEvent[] = [];
    const watch = vch.watch({ onEvent: (e) => events.push(e) });
    t.teardown(() => watch.stop());

    const spec = specFor(nodeName, 'one', 'echo hello; sleep 60');
    const created = await vch.pods.create(spec);
    t.is(created.layout, 'vm-per-pod');
    t.deepEqual(
      created.members.map((m) => m.role),
      ['app'],
    );
    await vch.pods.start(spec.pod.uid);
    const main = created.members[0]!;
    const inspect = await docker().getContainer(main.id).inspect();
    t.is(inspect.HostConfig.NanoCpus, 1e9, 'one vCPU, as VIC reads --cpuset-cpus');
    t.is(inspect.HostConfig.Memory, 512 * 2 ** 20, 'raised to the container VM floor');
    t.is(inspect.HostConfig.NetworkMode, 'default');

    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const result = await vch.streams.exec(
      { uid: spec.pod.uid, containerName: 'main' },
      ['sh', '-c', 'echo via-exec; exit 5'],
      { stdout: out, tty: false, signal: new AbortController().signal },
    );
    t.is(result.exitCode, 5);
    t.is(Buffer.concat(chunks).toString('utf8'), 'via-exec\n');

    const logs = await vch.streams.logs({ uid: spec.pod.uid, containerName: 'main' }, { follow: true });
    t.teardown(() => logs.destroy());
    const first = await new Promise<string>((resolve) =>
      logs.once('data', (c: Buffer) => resolve(c.toString('utf8'))),
    );
    t.is(first, 'hello\n');

    const status = await eventually('the pod IP from the app container', async () => {
      const s = await vch.pods.status(spec.pod.uid);
      return s?.podIP ? s : undefined;
    });
    t.is(status.podIP, Object.values(inspect.NetworkSettings.Networks)[0]?.IPAddress);
    t.is(status.sandbox?.state.kind, 'running');
    await eventually('a start event through the events stream', async () =>
      events.find((e) => e.action === 'start' && e.containerId === main.id),
    );
    await vch.pods.stop(spec.pod.uid, 1);
    await vch.pods.remove(spec.pod.uid);
    t.is(await vch.pods.get(spec.pod.uid), undefined);
    t.is(vic.proxy.refused.length, refusedBefore, 'nothing refused');
  },
);

test('the shared layout forced on a VIC VCH is refused as VIC refuses it, before any container runs', async (t) => {
  const nodeName = uniqueName('vk-vic-shared');
  const vch = createVch({
    endpoint: vic.endpoint,
    nodeName,
    sandboxImage: testEnv.pauseImage,
    profile: { layout: 'shared' },
  });
  t.teardown(async () => {
    vch.close();
    await removePodVms(nodeName);
  });
  const profile = await vch.knowledge.detect();
  t.is(profile.layout, 'shared');
  t.deepEqual(profile.overridden, ['layout']);
  const error = await t.throwsAsync(vch.pods.create(specFor(nodeName, 'shared', 'sleep 60')));
  t.regex(error?.message ?? '', /vSphere Integrated Containers does not yet implement IpcMode shareable/);
  t.deepEqual(await podVmContainers(nodeName), []);
});

test('an operator override is honoured: --vch-layout vm-per-pod on a Docker engine lays pods out as one VM', async (t) => {
  const vk = await VicKubelet.start({
    args: ['--vch-layout', 'vm-per-pod', '--vch-abilities', 'archives=false,exec=false'],
  });
  const ns = await testNamespace(kubeConfig(), 'vk-vic-override');
  t.teardown(async () => {
    await ns.cleanup();
    await vk.cleanup();
  });
  await vk.waitReady();
  const n = await core().readNode({ name: vk.nodeName });
  t.like(n.metadata?.labels, {
    'vic-kubelet.io/layout': 'vm-per-pod',
    'vic-kubelet.io/vch-product': 'docker',
  });
  t.like(JSON.parse(n.metadata?.annotations?.['vic-kubelet.io/vch-abilities'] ?? '{}'), {
    layout: 'vm-per-pod',
    abilities: { sharedNamespaces: true, archives: false, exec: false },
    overridden: ['archives', 'exec', 'layout'],
  });
  await createPod(ns.name, 'one', podOn(vk.nodeName, { containers: [shell('main', 'sleep 3600')] }));
  const pod = await podWhere(ns.name, 'one', 'Running', (p) => containerStatus(p, 'main')?.ready === true);
  const mine = (await podVmContainers(vk.nodeName)).filter(
    (c) => c.labels['vic-kubelet.io/pod-uid'] === pod.metadata?.uid,
  );
  t.deepEqual(
    mine.map((c) => c.labels['vic-kubelet.io/role']),
    ['app'],
  );
  t.truthy(pod.status?.podIP);
  const exec = await kubectl(['exec', 'one', '-n', ns.name, '--', 'true']);
  t.not(exec.exitCode, 0);
  t.regex(exec.stderr, /this VCH cannot run a command in a container \(exec ability off\)/);
});

test.serial('after the VCH was away, it is read again when it answers', async (t) => {
  const nodeName = uniqueName('vk-vic-again');
  const vch = createVch({ endpoint: vic.endpoint, nodeName });
  t.teardown(() => vch.close());
  await vch.host.facts();
  const first = vch.knowledge.current();
  t.is(first?.layout, 'vm-per-pod');
  const upstream = vic.proxy.upstream;
  await vic.proxy.close();
  t.false((await vch.host.health(1000)).reachable);
  await vic.restart();
  t.is(vic.proxy.upstream, upstream);
  // The first request may meet a connection the old proxy left behind, as after any VCH restart.
  await eventually('the VCH answers again', async () =>
    (await vch.host.health(1000)).reachable ? true : undefined,
  );
  const again = await eventually('a second reading of the VCH', async () => {
    const now = vch.knowledge.current();
    return now !== first ? now : undefined;
  });
  t.deepEqual(again?.abilities, first?.abilities);
});
