// What a VIC VCH is, as the node sees it, through the VIC contract proxy in front of the real engine:
// the CPUs it states as MHz become a CPU count; admission counts the container VM each pod will really
// be (VIC's 512 MiB floor, its 2 vCPU / 2 GiB default) against Allocatable and the pod's status says
// what the VM got; a host address VIC cannot bind is refused at admission. When the VCH comes back
// without an event stream, the Node's labels and annotation follow and container status comes from
// lists: a container's exit is still seen.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import Docker from 'dockerode';
import { docker, eventually, kubeConfig, testEnv, testNamespace } from '../support/env.js';
import { containerStatus, core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { podVmContainers, VicKubelet } from '../support/vic-kubelet.js';
import { VIC_MHZ_PER_ENGINE_CPU, VicProxy, vicProxyForFile } from '../support/vic-proxy.js';

const vic = vicProxyForFile(test, testEnv.dockerHost);
const MiB = 2 ** 20;

/** Ready, or the test fails with the end of vic-kubelet's output. */
async function started(t: ExecutionContext, vk: VicKubelet): Promise<void> {
  try {
    // Generous: on a loaded machine vic-kubelet may take minutes to register.
    await vk.waitReady(180_000);
  } catch (err) {
    t.log(vk.output().slice(-4000));
    throw err;
  }
}

test.serial(
  'capacity, admission and reported resources count each pod as the container VM VIC makes of it',
  async (t) => {
    const engineCpus = ((await docker().info()) as { NCPU: number }).NCPU;
    // Allocatable: 2 CPUs whatever this machine has (the rest reserved), 2816 MiB of memory.
    const vk = await VicKubelet.start({
      args: [
        '--vch',
        vic.endpoint,
        '--capacity',
        'memory=2816Mi',
        '--reserved',
        `cpu=${Math.max(0, engineCpus - 2)}`,
      ],
    });
    const ns = await testNamespace(kubeConfig(), 'vk-vic-vch');
    t.teardown(async () => {
      await ns.cleanup();
      await vk.cleanup();
    });
    await started(t, vk);
    const n = await core().readNode({ name: vk.nodeName });
    // The proxy's /info says NCPU = the engine's CPUs in MHz, as VIC says its CPU limit.
    const viaProxy = new Docker({ socketPath: vic.endpoint.slice('unix://'.length) });
    t.is(((await viaProxy.info()) as { NCPU: number }).NCPU, engineCpus * VIC_MHZ_PER_ENGINE_CPU);
    t.is(n.status?.capacity?.cpu, String(engineCpus), 'CPUs, not MHz');
    t.is(n.status?.allocatable?.cpu, '2');

    const on = (spec: Parameters<typeof podOn>[1]) => podOn(vk.nodeName, spec);
    // 1 CPU and 64 MiB: one vCPU and VIC's 512 MiB floor.
    await createPod(
      ns.name,
      'small',
      on({
        containers: [shell('main', 'sleep 3600', { resources: { limits: { cpu: '1', memory: '64Mi' } } })],
      }),
    );
    const small = await podWhere(
      ns.name,
      'small',
      'Running',
      (p) => containerStatus(p, 'main')?.ready === true,
    );
    t.like(containerStatus(small, 'main')?.resources, {
      requests: { cpu: '1', memory: '512Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
    const [vm] = (await podVmContainers(vk.nodeName)).filter(
      (c) => c.labels['vic-kubelet.io/pod-uid'] === small.metadata?.uid,
    );
    const inspect = await docker().getContainer(vm!.id).inspect();
    t.is(inspect.HostConfig.Memory, 512 * MiB, 'the VM got what the status says');
    t.is(inspect.HostConfig.NanoCpus, 1e9);

    // 2400 MiB is 2432 MiB aligned; with the 512 MiB VM it is more than 2816 MiB. Bound by name, as the
    // scheduler (which counts requests) would place it.
    await createPod(ns.name, 'big', {
      ...on({
        containers: [
          shell('main', 'sleep 3600', { resources: { requests: { cpu: '500m', memory: '2400Mi' } } }),
        ],
      }),
      nodeName: vk.nodeName,
    });
    const big = await podWhere(ns.name, 'big', 'Failed', (p) => p.status?.phase === 'Failed');
    t.is(big.status?.reason, 'OutOfmemory');
    t.is(
      big.status?.message,
      `Node didn't have enough resource: memory, requested: ${2432 * MiB}, used: ${512 * MiB}, capacity: ${2816 * MiB}`,
    );

    // No requests at all: VIC's default VM, 2 vCPUs, does not fit beside the 1-vCPU one.
    await createPod(ns.name, 'plain', {
      ...on({ containers: [shell('main', 'sleep 3600')] }),
      nodeName: vk.nodeName,
    });
    const plain = await podWhere(ns.name, 'plain', 'Failed', (p) => p.status?.phase === 'Failed');
    t.is(plain.status?.reason, 'OutOfcpu');
    t.is(
      plain.status?.message,
      "Node didn't have enough resource: cpu, requested: 2000, used: 1000, capacity: 2000",
    );

    // A host address other than 0.0.0.0: refused at admission, the field named, with an event.
    await createPod(
      ns.name,
      'bound',
      on({
        containers: [
          shell('main', 'sleep 3600', {
            resources: { limits: { cpu: '1', memory: '512Mi' } },
            ports: [{ containerPort: 80, hostPort: 18080, hostIP: '10.1.2.3' }],
          }),
        ],
      }),
    );
    const bound = await podWhere(ns.name, 'bound', 'Failed', (p) => p.status?.phase === 'Failed');
    t.is(bound.status?.reason, 'UnsupportedPodSpec');
    t.regex(
      bound.status?.message ?? '',
      /spec\.containers\[main\]\.ports\[80\]\.hostIP \(10\.1\.2\.3; only 0\.0\.0\.0\)/,
    );
    t.true((await podEvents(ns.name, 'bound')).some((e) => e.reason === 'UnsupportedPodSpec'));
    const uids = [big, plain, bound].map((p) => p.metadata?.uid);
    t.false(
      (await podVmContainers(vk.nodeName)).some((c) => uids.includes(c.labels['vic-kubelet.io/pod-uid'])),
      'nothing created for a refused pod',
    );
    t.deepEqual(vic.proxy.refused, [], 'the VIC proxy refused nothing');
  },
);

test.serial(
  'a VCH that comes back without events: the Node’s abilities follow, and an exit is seen by listing',
  async (t) => {
    const socket = `/var/tmp/vk-vic-${Math.random().toString(16).slice(2, 8)}/docker.sock`;
    const upstream = testEnv.dockerHost.replace(/^unix:\/\//, '');
    let proxy = await VicProxy.start({ upstream, socket });
    const vk = await VicKubelet.start({ args: ['--vch', `unix://${socket}`] });
    const ns = await testNamespace(kubeConfig(), 'vk-vic-events');
    t.teardown(async () => {
      await ns.cleanup();
      await vk.cleanup();
      await proxy.close();
      rmSync(dirname(socket), { recursive: true, force: true });
    });
    await started(t, vk);
    const abilities = async () =>
      JSON.parse(
        (await core().readNode({ name: vk.nodeName })).metadata?.annotations?.[
          'vic-kubelet.io/vch-abilities'
        ] ?? '{}',
      ) as { abilities?: { events?: boolean } };
    t.is((await abilities()).abilities?.events, true);

    // The VCH goes away, and comes back without an event stream.
    await proxy.close();
    await eventually('vic-kubelet to see the VCH unreachable', async () =>
      vk.output().includes('"reachable":false') ? true : undefined,
    );
    proxy = await VicProxy.start({ upstream, socket, refuseEvents: true });
    let seen: unknown;
    await eventually(
      'the Node annotation to say events: false',
      async () => {
        const now = await abilities();
        seen = now;
        return now.abilities?.events === false ? now : undefined;
      },
      { timeoutMs: 90_000, lastSeen: () => seen },
    );
    const n = await core().readNode({ name: vk.nodeName });
    t.like(n.metadata?.labels, {
      'vic-kubelet.io/layout': 'vm-per-pod',
      'vic-kubelet.io/vch-product': 'vic',
    });
    await eventually('the status source to switch to lists', async () =>
      vk.output().includes('"to":"poll"') ? true : undefined,
    );

    // The event stream is refused; the slow resync is minutes away: the exit is seen by listing.
    await createPod(
      ns.name,
      'exits',
      podOn(vk.nodeName, {
        restartPolicy: 'Never',
        containers: [
          // A message outside /dev lives on the container VM's own disk: read back from the stopped VM.
          shell('main', 'echo bye > /tmp/termination-log; sleep 2; exit 3', {
            terminationMessagePath: '/tmp/termination-log',
          }),
        ],
      }),
    );
    const pod = await podWhere(
      ns.name,
      'exits',
      'Failed with exit code 3',
      (p) => p.status?.phase === 'Failed',
    );
    t.like(containerStatus(pod, 'main')?.state?.terminated, { exitCode: 3, message: 'bye\n' });
    t.true(
      proxy.refused.some((r) => r.path.includes('/events') && r.status === 404),
      'the event stream was asked for and refused',
    );
    t.deepEqual(
      proxy.refused.filter((r) => !r.path.includes('/events')),
      [],
      'nothing else refused',
    );
  },
);
