// Fault suite: the API server unreachable for 60 s, as this vic-kubelet sees it. Its kubeconfig points
// at a TCP proxy (test/support/tcp-proxy.ts) that passes TLS through untouched and is cut: every open
// connection reset, new ones refused. The shared API server is never stopped. Meanwhile a container
// exits, a pod is created and another deleted (through the API server directly). After: vic-kubelet
// kept running, its watch resumed (or relisted), nothing was created twice, and the status of the
// container that exited during the outage reaches the API server.
import test from 'ava';
import type * as k8s from '@kubernetes/client-node';
import { apiServerProxy } from '../support/apiserver-proxy.js';
import { docker, eventually, kubeConfig, testNamespace } from '../support/env.js';
import { containerStatus, core, createPod, podOn, podWhere, shell } from '../support/pods.js';
import { faultsLong } from '../support/prng.js';
import { podVmContainers, VicKubelet } from '../support/vic-kubelet.js';

const outageMs = Number(process.env.VK_FAULTS_APISERVER_OUTAGE_MS ?? (faultsLong ? 120_000 : 60_000));

async function exec(containerId: string, cmd: string[]): Promise<void> {
  const e = await docker()
    .getContainer(containerId)
    .exec({ Cmd: cmd, AttachStdout: false, AttachStderr: false });
  await e.start({ Detach: true });
}

test.serial(
  `the API server unreachable for ${outageMs / 1000} s: vic-kubelet carries on, nothing is created twice, status written during the outage is not lost`,
  async (t) => {
    t.timeout(outageMs + 5 * 60_000);
    const { proxy, kubeconfig } = await apiServerProxy();
    const vk = await VicKubelet.start({ args: ['--kubeconfig', kubeconfig] });
    const ns = await testNamespace(kubeConfig(), 'vk-fapi');
    t.teardown(async () => {
      if (!t.passed) t.log(vk.output().slice(-20_000));
      await ns.cleanup();
      await vk.cleanup();
      await proxy.close();
    });
    await vk.waitReady(180_000);
    const on = (spec: Parameters<typeof podOn>[1]) =>
      podOn(vk.nodeName, { terminationGracePeriodSeconds: 1, ...spec });
    await createPod(ns.name, 'stays', on({ containers: [shell('main', 'sleep 3600')] }));
    await createPod(ns.name, 'doomed', on({ containers: [shell('main', 'sleep 3600')] }));
    // Exits with 3 once told to (a file appears), so that it exits while the API server is away.
    await createPod(
      ns.name,
      'exits',
      on({
        restartPolicy: 'Never',
        containers: [shell('main', 'while [ ! -f /tmp/stop ]; do sleep 0.2; done; exit 3')],
      }),
    );
    const before = new Map<string, k8s.V1Pod>();
    for (const name of ['stays', 'doomed', 'exits']) {
      before.set(
        name,
        await podWhere(
          ns.name,
          name,
          'running',
          (p) => !!containerStatus(p, 'main')?.state?.running,
          120_000,
        ),
      );
    }
    const bytesBefore = proxy.counts.bytesDown;

    proxy.cut('refuse');
    const cutAt = Date.now();
    const exitsId = containerStatus(before.get('exits')!, 'main')!.containerID!.replace('docker://', '');
    await exec(exitsId, ['touch', '/tmp/stop']);
    const exited = await eventually('the exits container to stop on the engine', async () => {
      const info = await docker().getContainer(exitsId).inspect();
      return info.State.Running ? undefined : info.State;
    });
    t.is(exited.ExitCode, 3);
    const born = await createPod(ns.name, 'born', on({ containers: [shell('main', 'sleep 3600')] }));
    await core().deleteNamespacedPod({ name: 'doomed', namespace: ns.name, gracePeriodSeconds: 1 });
    const remaining = outageMs - (Date.now() - cutAt);
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    t.true(vk.running, 'vic-kubelet still runs after the outage');
    const refused = proxy.counts.cutConnections;
    proxy.restore();

    const exits = await podWhere(
      ns.name,
      'exits',
      'terminated with exit code 3',
      (p) => containerStatus(p, 'main')?.state?.terminated?.exitCode === 3,
      120_000,
    );
    t.is(exits.status?.phase, 'Failed');
    await podWhere(ns.name, 'born', 'running', (p) => !!containerStatus(p, 'main')?.state?.running, 120_000);
    await eventually(
      'doomed to be gone',
      async () => {
        const pods = await core().listNamespacedPod({ namespace: ns.name });
        return pods.items.some((p) => p.metadata?.name === 'doomed') ? undefined : true;
      },
      { timeoutMs: 120_000 },
    );
    await vk.waitReady(120_000);

    const containers = await podVmContainers(vk.nodeName);
    const uidOf = (name: string) => (name === 'born' ? born.metadata?.uid : before.get(name)?.metadata?.uid);
    for (const name of ['stays', 'exits', 'born']) {
      const mine = containers.filter((c) => c.labels['vic-kubelet.io/pod-uid'] === uidOf(name));
      t.is(
        mine.filter((c) => c.labels['vic-kubelet.io/role'] === 'sandbox').length,
        1,
        `${name}: one sandbox`,
      );
      t.is(mine.filter((c) => c.labels['vic-kubelet.io/role'] === 'app').length, 1, `${name}: one container`);
    }
    t.false(
      containers.some((c) => c.labels['vic-kubelet.io/pod-uid'] === uidOf('doomed')),
      'the pod VM of the pod deleted during the outage is removed',
    );
    const stays = await core().readNamespacedPod({ name: 'stays', namespace: ns.name });
    const was = containerStatus(before.get('stays')!, 'main');
    t.is(containerStatus(stays, 'main')?.containerID, was?.containerID, 'stays keeps its container');
    t.is(containerStatus(stays, 'main')?.restartCount, 0);
    t.true(proxy.counts.bytesDown > bytesBefore, 'vic-kubelet talks through the proxy again');
    t.log(
      `faults injected: 1 API server outage of ${outageMs / 1000} s (${refused} connections reset or refused), 1 container exit, 1 create and 1 delete during it; pods checked: 4; lost: 0`,
    );
  },
);
