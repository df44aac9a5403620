// The virtual node in a real cluster: registration, capacity from the VCH, taint, Lease heartbeats
// the node lifecycle controller accepts, and Ready following the VCH's health. The tests run one at a
// time: each starts its own vic-kubelet, and one start at a time keeps a busy machine within bounds.
import { readFileSync, statfsSync } from 'node:fs';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { productVersion } from '../../src/shared/version.js';
import { docker, eventually, kubeConfig, kubectl, testEnv, testNamespace } from '../support/env.js';
import { PrivateDockerd } from '../support/dockerd.js';
import { VicKubelet } from '../support/vic-kubelet.js';

const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
const readyOf = (node: k8s.V1Node) => node.status?.conditions?.find((c) => c.type === 'Ready');
const conditionOf = (node: k8s.V1Node, type: string) => node.status?.conditions?.find((c) => c.type === type);
const minorOf = (version: string) => Number(/^v?\d+\.(\d+)/.exec(version)?.[1] ?? Number.NaN);

test.serial('the node registers Ready with capacity, labels, taint and nodeInfo from the VCH', async (t) => {
  const vk = await VicKubelet.start({ args: ['--node-labels', 'team=vic,tier=edge'] });
  t.teardown(() => vk.cleanup());
  // A generous bound (the machine may be busy) that a stuck registration fails; the figure itself is
  // `npm run bench`'s.
  const ms = await vk.waitReady(45_000);
  t.true(ms < 45_000, `Ready ${ms} ms after start`);

  const node = await core().readNode({ name: vk.nodeName });
  const info = (await docker().info()) as {
    ID: string;
    NCPU: number;
    MemTotal: number;
    ServerVersion: string;
    KernelVersion: string;
    DockerRootDir: string;
  };
  t.is(node.status?.capacity?.cpu, String(info.NCPU));
  t.is(node.status?.capacity?.memory, `${info.MemTotal / 1024}Ki`);
  t.is(node.status?.capacity?.pods, '110');
  // The engine runs on this machine: its storage is the filesystem under its data root.
  const fs = statfsSync(info.DockerRootDir);
  t.is(node.status?.capacity?.['ephemeral-storage'], `${(fs.blocks * fs.bsize) / 1024}Ki`);
  t.deepEqual(node.status?.allocatable, node.status?.capacity);
  t.is(node.status?.nodeInfo?.containerRuntimeVersion, `docker://${info.ServerVersion}`);
  t.is(node.status?.nodeInfo?.kernelVersion, info.KernelVersion);
  // Never newer than the API server, with the product's version visible.
  const server = await kubeConfig().makeApiClient(k8s.VersionApi).getCode();
  const kubeletVersion = node.status?.nodeInfo?.kubeletVersion ?? '';
  t.true(kubeletVersion.endsWith(`-vic.${productVersion}`), kubeletVersion);
  t.true(minorOf(kubeletVersion) <= minorOf(server.gitVersion), `${kubeletVersion} vs ${server.gitVersion}`);
  const shown = await kubectl(['get', 'node', vk.nodeName, '--no-headers']);
  t.regex(shown.stdout, new RegExp(`\\s${kubeletVersion.replaceAll('.', '\\.')}\\s*$`, 'm'));
  // The machine's boot ID, not the engine's ID twice.
  t.is(node.status?.nodeInfo?.machineID, info.ID);
  t.is(node.status?.nodeInfo?.bootID, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  t.not(node.status?.nodeInfo?.systemUUID, info.ID);
  t.is(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, vk.port);
  t.like(
    node.status?.addresses?.find((a) => a.type === 'InternalIP'),
    { type: 'InternalIP', address: '127.0.0.1' },
  );

  const labels = node.metadata?.labels ?? {};
  t.like(labels, {
    type: 'virtual-kubelet',
    'kubernetes.io/role': 'agent',
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': vk.nodeName,
    team: 'vic',
    tier: 'edge',
  });
  t.true(
    node.spec?.taints?.some(
      (x) => x.key === 'virtual-kubelet.io/provider' && x.value === 'vic' && x.effect === 'NoSchedule',
    ),
  );
  // The node lifecycle controller puts not-ready on every new node and lifts it once it sees Ready.
  const taints = await eventually('only our taint left', async () => {
    const n = await core().readNode({ name: vk.nodeName });
    return n.spec?.taints?.length === 1 ? n.spec.taints : undefined;
  });
  t.deepEqual(
    taints.map((x) => `${x.key}=${x.value}:${x.effect}`),
    ['virtual-kubelet.io/provider=vic:NoSchedule'],
  );
  // Disk pressure is measured (the data root's free space); memory and PID pressure are not.
  t.like(conditionOf(node, 'DiskPressure'), { status: 'False', reason: 'KubeletHasNoDiskPressure' });
  for (const type of ['MemoryPressure', 'PIDPressure']) {
    t.like(conditionOf(node, type), { status: 'Unknown', reason: 'NodeStatusUnknown' }, type);
  }
  t.is(readyOf(node)?.reason, 'KubeletReady');

  // The Lease is created just after the first status: Ready may come a moment before it.
  const lease = await eventually('the node Lease', () =>
    kubeConfig()
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ name: vk.nodeName, namespace: 'kube-node-lease' }),
  );
  t.is(lease.spec?.holderIdentity, vk.nodeName);
  t.is(lease.spec?.leaseDurationSeconds, 40);
  t.is(lease.metadata?.ownerReferences?.[0]?.uid, node.metadata?.uid);
});

test.serial(
  'capacity overrides, a reserve and a custom taint are honoured; --no-taint removes it',
  async (t) => {
    const vk = await VicKubelet.start({
      args: [
        '--capacity',
        'cpu=8,memory=16Gi,pods=20',
        '--reserved',
        'cpu=500m,memory=1Gi,pods=2',
        '--taint',
        'edge=only:NoExecute',
      ],
    });
    t.teardown(() => vk.cleanup());
    await vk.waitReady();
    let node = await core().readNode({ name: vk.nodeName });
    t.like(node.status?.capacity, { cpu: '8', memory: '16Gi', pods: '20' });
    t.like(node.status?.allocatable, { cpu: '7500m', memory: '15Gi', pods: '18' });
    // Ours, beside whatever the node lifecycle controller adds to a node it has just seen.
    t.true(node.spec?.taints?.some((x) => `${x.key}=${x.value}:${x.effect}` === 'edge=only:NoExecute'));
    t.false(node.spec?.taints?.some((x) => x.key === 'virtual-kubelet.io/provider'));

    // The same node name again, now without a taint: the existing Node is taken over.
    await vk.stop();
    const again = await VicKubelet.start({ nodeName: vk.nodeName, args: ['--no-taint'] });
    t.teardown(() => again.cleanup());
    await again.waitReady();
    node = await eventually('taint removed and capacity back to what the VCH says', async () => {
      const n = await core().readNode({ name: vk.nodeName });
      return (n.spec?.taints ?? []).length === 0 && n.status?.capacity?.pods === '110' ? n : undefined;
    });
    t.is(node.status?.capacity?.cpu, node.status?.allocatable?.cpu);
  },
);

test.serial(
  'for 3 minutes the Lease is renewed every 10 s, and the node stays Ready with no unreachable taint',
  async (t) => {
    t.timeout(5 * 60_000);
    const vk = await VicKubelet.start();
    t.teardown(() => vk.cleanup());
    await vk.waitReady();
    const coordination = kubeConfig().makeApiClient(k8s.CoordinationV1Api);
    const renewals: number[] = [];
    const until = Date.now() + 3 * 60_000;
    while (Date.now() < until) {
      // The Lease is created just after the first status: Ready may come a moment before it.
      const lease = await coordination
        .readNamespacedLease({ name: vk.nodeName, namespace: 'kube-node-lease' })
        .catch((err: { code?: number }) => {
          if (err.code === 404 && renewals.length === 0) return undefined;
          throw err;
        });
      const at = lease ? new Date(lease.spec?.renewTime ?? 0).getTime() : undefined;
      if (at !== undefined && at !== renewals.at(-1)) renewals.push(at);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Every gap between renewals seen is one period: 10 s, plus the time a renewal takes (longer on a
    // busy machine, never near the Lease's 40 s); the typical gap is the period itself.
    const gaps = renewals.slice(1).map((at, i) => at - renewals[i]!);
    const shown = `gaps between renewals (ms): ${JSON.stringify(gaps)}`;
    t.true(gaps.length >= 12, shown);
    t.true(
      gaps.every((gap) => gap >= 9_000 && gap <= 20_000),
      shown,
    );
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0;
    t.true(median >= 9_500 && median <= 11_000, shown);
    const node = await core().readNode({ name: vk.nodeName });
    t.is(readyOf(node)?.status, 'True', vk.output().slice(-2000));
    t.false(
      (node.spec?.taints ?? []).some((x) => x.key.startsWith('node.kubernetes.io/')),
      JSON.stringify(node.spec?.taints),
    );
  },
);

test.serial(
  'a tolerating Deployment lands on the node; a pod without the toleration stays Pending with the scheduler’s reason',
  async (t) => {
    const vk = await VicKubelet.start();
    const ns = await testNamespace(kubeConfig(), 'vk-sched');
    t.teardown(async () => {
      await ns.cleanup();
      await vk.cleanup();
    });
    await vk.waitReady();
    const selector = { 'kubernetes.io/hostname': vk.nodeName };
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: 'tolerating' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'tolerating' } },
          template: {
            metadata: { labels: { app: 'tolerating' } },
            spec: {
              nodeSelector: selector,
              tolerations: [
                { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'vic', effect: 'NoSchedule' },
              ],
              containers: [
                {
                  name: 'sleep',
                  image: testEnv.busyboxImage,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['sleep', '3600'],
                },
              ],
            },
          },
        },
      },
    });
    await core().createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'intolerant' },
        spec: { nodeSelector: selector, containers: [{ name: 'c', image: testEnv.busyboxImage }] },
      },
    });

    const pods = await eventually(
      'both replicas bound to the virtual node',
      async () => {
        const list = await core().listNamespacedPod({ namespace: ns.name, labelSelector: 'app=tolerating' });
        return list.items.length === 2 && list.items.every((p) => p.spec?.nodeName === vk.nodeName)
          ? list.items
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    t.is(pods.length, 2);

    const reason = await eventually('the scheduler to explain', async () => {
      const events = await core().listNamespacedEvent({
        namespace: ns.name,
        fieldSelector: 'involvedObject.name=intolerant',
      });
      return events.items.find((e) => e.reason === 'FailedScheduling')?.message;
    });
    t.regex(reason, /had untolerated taint/);
    const intolerant = await core().readNamespacedPod({ name: 'intolerant', namespace: ns.name });
    t.is(intolerant.status?.phase, 'Pending');
    t.falsy(intolerant.spec?.nodeName);
    const shown = await kubectl(['get', 'pod', 'intolerant', '-n', ns.name, '--no-headers']);
    t.regex(shown.stdout, /Pending/);
  },
);

test.serial(
  'stopping the VCH turns Ready False with a message; starting it again turns Ready True',
  async (t) => {
    const vch = new PrivateDockerd();
    await vch.start();
    const vk = await VicKubelet.start({ env: { DOCKER_HOST: vch.endpoint }, args: ['--vch', vch.endpoint] });
    t.teardown(async () => {
      await vk.cleanup();
      await vch.destroy();
    });
    await vk.waitReady();

    await vch.stop();
    const stoppedAt = Date.now();
    const notReady = await eventually(
      'Ready=False',
      async () => {
        const c = readyOf(await core().readNode({ name: vk.nodeName }));
        return c?.status === 'False' ? c : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // A health check every 5 s with a 3 s ping: well within 30 s.
    const tookMs = Date.now() - stoppedAt;
    t.true(tookMs < 30_000, `Ready=False ${tookMs} ms after the VCH stopped`);
    t.is(notReady.reason, 'KubeletNotReady');
    t.regex(notReady.message ?? '', /VCH is unreachable/);
    const down = await core().readNode({ name: vk.nodeName });
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      t.like(conditionOf(down, type), { status: 'Unknown', reason: 'NodeStatusUnknown' }, type);
    }
    const described = await kubectl(['describe', 'node', vk.nodeName]);
    t.notRegex(
      described.stdout,
      /^\s+(MemoryPressure|DiskPressure|PIDPressure)\s+False\b/m,
      described.stdout,
    );

    await vch.start();
    const restartedAt = Date.now();
    await vk.waitReady();
    const backMs = Date.now() - restartedAt;
    t.true(backMs < 30_000, `Ready=True ${backMs} ms after the VCH came back`);
    t.true(vk.running);
  },
);

test.serial('SIGTERM stops vic-kubelet cleanly and leaves the Node in place', async (t) => {
  const vk = await VicKubelet.start();
  t.teardown(() => vk.cleanup());
  await vk.waitReady();
  const exit = await vk.stop('SIGTERM');
  t.is(exit, 0, vk.output().slice(-2000));
  const node = await core().readNode({ name: vk.nodeName });
  t.is(node.metadata?.name, vk.nodeName);
});
