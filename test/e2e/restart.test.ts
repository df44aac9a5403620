// Nothing is lost when vic-kubelet dies: after a SIGKILL and a start, running pod VMs are adopted
// (not restarted), pod VMs of deleted pods are removed, missing ones created, none duplicated.
import test from 'ava';
import { eventually, kubeConfig, testNamespace } from '../support/env.js';
import { containerStatus, core, createPod, podOn, podWhere, shell } from '../support/pods.js';
import { podVmContainers, VicKubelet } from '../support/vic-kubelet.js';

test.serial('a restart adopts running pod VMs without restarting them', async (t) => {
  const vk = await VicKubelet.start();
  const ns = await testNamespace(kubeConfig(), 'vk-adopt');
  t.teardown(async () => {
    await ns.cleanup();
    await vk.cleanup();
  });
  await vk.waitReady();
  const names = ['a', 'b', 'c'];
  for (const name of names)
    await createPod(ns.name, name, podOn(vk.nodeName, { containers: [shell('main', 'sleep 3600')] }));
  const before = await Promise.all(
    names.map((n) => podWhere(ns.name, n, 'Running', (p) => p.status?.phase === 'Running')),
  );

  t.is(await vk.stop('SIGKILL'), 'SIGKILL');
  vk.spawn();
  await vk.waitReady();
  // Give the new process time to sync every pod once.
  await new Promise((resolve) => setTimeout(resolve, 5000));

  for (const [i, name] of names.entries()) {
    const pod = await core().readNamespacedPod({ name, namespace: ns.name });
    const was = containerStatus(before[i]!, 'main');
    const now = containerStatus(pod, 'main');
    t.is(pod.status?.phase, 'Running');
    t.is(now?.containerID, was?.containerID, `${name} keeps its container`);
    t.is(now?.restartCount, 0);
    t.deepEqual(now?.state?.running?.startedAt, was?.state?.running?.startedAt);
  }
});

test.serial(
  'SIGKILL during a burst of 50 creates and deletes leaves exactly one pod VM per live pod',
  async (t) => {
    t.timeout(5 * 60_000);
    const vk = await VicKubelet.start();
    const ns = await testNamespace(kubeConfig(), 'vk-burst');
    t.teardown(async () => {
      await ns.cleanup();
      await vk.cleanup();
    });
    await vk.waitReady();
    const names = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const spec = podOn(vk.nodeName, {
      terminationGracePeriodSeconds: 1,
      containers: [shell('main', 'sleep 3600')],
    });

    const creates = names.map((name) => createPod(ns.name, name, spec));
    // Kill vic-kubelet while creates are landing, then delete every other pod while it is down.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await vk.stop('SIGKILL');
    const created = await Promise.all(creates);
    const deleted = names.filter((_, i) => i % 2 === 1);
    await Promise.all(deleted.map((name) => core().deleteNamespacedPod({ name, namespace: ns.name })));

    vk.spawn();
    await vk.waitReady();
    const live = names.filter((n) => !deleted.includes(n));
    await eventually(
      'every live pod Running and every deleted pod gone',
      async () => {
        const pods = (await core().listNamespacedPod({ namespace: ns.name })).items;
        const running = pods.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata?.name);
        return pods.length === live.length && live.every((n) => running.includes(n)) ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );

    const uidOf = new Map(created.map((p) => [p.metadata?.name ?? '', p.metadata?.uid ?? '']));
    const containers = await podVmContainers(vk.nodeName);
    for (const name of live) {
      const mine = containers.filter((c) => c.labels['vic-kubelet.io/pod-uid'] === uidOf.get(name));
      const sandboxes = mine.filter((c) => c.labels['vic-kubelet.io/role'] === 'sandbox');
      const apps = mine.filter((c) => c.labels['vic-kubelet.io/role'] === 'app');
      t.is(sandboxes.length, 1, `${name}: one sandbox`);
      t.is(apps.length, 1, `${name}: one container`);
    }
    for (const name of deleted) {
      t.false(
        containers.some((c) => c.labels['vic-kubelet.io/pod-uid'] === uidOf.get(name)),
        `${name}: pod VM removed`,
      );
    }
    t.is(containers.length, live.length * 2, 'nothing else on the VCH for this node');
  },
);
