// Fault suite: vic-kubelet killed with SIGKILL at random points while pods are created, restarted
// (their container killed on the engine) and deleted, 20 times in a row (VK_FAULTS_LONG=1: 60), and
// started again each time. Afterwards every live pod has exactly one pod VM and the right status, no
// pod VM is left for a deleted pod, and no running container was restarted by a restart of vic-kubelet.
// The random points come from a seeded PRNG; the seed is printed, VK_FAULTS_SEED replays a run.
import test from 'ava';
import type * as k8s from '@kubernetes/client-node';
import { docker, eventually, kubeConfig, testNamespace } from '../support/env.js';
import { containerStatus, core, createPod, podOn, podWhere, shell } from '../support/pods.js';
import { faultSeed, faultsLong, seededPrng } from '../support/prng.js';
import { podVmContainers, VicKubelet } from '../support/vic-kubelet.js';

const rounds = faultsLong ? 60 : 20;
// A container is killed at most this often: the kubelet's crash back-off (10 s, 20 s, ...) would
// otherwise keep the end state waiting for minutes.
const maxContainerKills = 2;
// The kill lands this long after the new process says its API listens: its start-up, first list, the
// first pass over every pod and the operation of the round all fall in this window.
const killWindowMs = { min: 0, max: 4000 };

type Op = 'create' | 'delete' | 'crash';

interface Tracked {
  name: string;
  uid: string;
  deleted: boolean;
  /** How often the test killed its container on the engine: its restartCount at the end. */
  kills: number;
  steady: boolean;
}

const runningSpec = (nodeName: string): k8s.V1PodSpec =>
  podOn(nodeName, { terminationGracePeriodSeconds: 1, containers: [shell('main', 'sleep 3600')] });

async function appContainers(nodeName: string, uid: string) {
  return (await podVmContainers(nodeName)).filter(
    (c) => c.labels['vic-kubelet.io/pod-uid'] === uid && c.labels['vic-kubelet.io/role'] === 'app',
  );
}

/** Resolves once the output written after `from` contains `text` (the process printed it). */
async function outputAfter(vk: VicKubelet, from: number, text: string): Promise<void> {
  await eventually(
    `vic-kubelet to print "${text}"`,
    async () => (vk.output().indexOf(text, from) >= 0 ? true : undefined),
    { timeoutMs: 120_000, intervalMs: 50, lastSeen: () => vk.output().slice(-1500) },
  );
}

test.serial(
  `SIGKILL at random points of pod create, restart and delete, ${rounds} times: nothing lost, duplicated or restarted`,
  async (t) => {
    t.timeout((faultsLong ? 20 : 8) * 60_000);
    const prng = seededPrng(faultSeed());
    t.log(`seed ${prng.seed} (VK_FAULTS_SEED=${prng.seed} replays this run)`);
    const vk = await VicKubelet.start();
    const ns = await testNamespace(kubeConfig(), 'vk-fkill');
    const tracked = new Map<string, Tracked>();
    const summary = () =>
      [...tracked.values()].map((p) => `${p.name}${p.deleted ? '(deleted)' : ''} kills=${p.kills}`);
    t.teardown(async () => {
      if (!t.passed) t.log(vk.output().slice(-20_000));
      await ns.cleanup();
      await vk.cleanup();
    });
    await vk.waitReady(120_000);

    const create = async (name: string, steady = false) => {
      const pod = await createPod(ns.name, name, runningSpec(vk.nodeName));
      tracked.set(name, { name, uid: pod.metadata?.uid ?? '', deleted: false, kills: 0, steady });
    };
    // Two pods no round touches: their containers must come through every kill unchanged.
    for (const name of ['steady-0', 'steady-1', 'r0', 'r1', 'r2'])
      await create(name, name.startsWith('steady'));
    const before = new Map<string, k8s.V1ContainerStatus | undefined>();
    for (const name of tracked.keys()) {
      const pod = await podWhere(
        ns.name,
        name,
        'running',
        (p) => !!containerStatus(p, 'main')?.state?.running,
      );
      before.set(name, containerStatus(pod, 'main'));
    }

    const ops: string[] = [];
    let next = 3;
    for (let round = 0; round < rounds; round++) {
      // The process of this round: started (the first is already up), killed at a random point.
      if (!vk.running) {
        const from = vk.output().length;
        vk.spawn();
        await outputAfter(vk, from, '"kubelet API listening"');
      }

      const live = [...tracked.values()].filter((p) => !p.deleted && !p.steady);
      let op = prng.pick<Op>(['create', 'create', 'delete', 'crash', 'crash']);
      let crashable: Tracked[] = [];
      if (op === 'crash') {
        crashable = [];
        for (const p of live.filter((l) => l.kills < maxContainerKills)) {
          if ((await appContainers(vk.nodeName, p.uid)).some((c) => c.state === 'running')) crashable.push(p);
        }
        if (crashable.length === 0) op = 'create';
      }
      if (op === 'delete' && live.length < 2) op = 'create';
      const delayMs = prng.int(killWindowMs.min, killWindowMs.max);
      let what: string;
      if (op === 'create') {
        what = `r${next++}`;
        await create(what);
      } else if (op === 'delete') {
        const victim = prng.pick(live);
        what = victim.name;
        await core().deleteNamespacedPod({ name: victim.name, namespace: ns.name, gracePeriodSeconds: 1 });
        victim.deleted = true;
      } else {
        const victim = prng.pick(crashable);
        what = victim.name;
        const running = (await appContainers(vk.nodeName, victim.uid)).find((c) => c.state === 'running');
        await docker().getContainer(running!.id).kill({ signal: 'SIGKILL' });
        victim.kills += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      t.is(await vk.stop('SIGKILL'), 'SIGKILL');
      ops.push(`${round}:${op} ${what} +${delayMs}ms`);
      // Progress as it happens: a round can take long on a loaded machine.
      console.log(`faults-kill: round ${round + 1}/${rounds}: ${op} ${what}, SIGKILL ${delayMs} ms later`);
    }
    t.log(`rounds: ${ops.join(', ')}`);

    vk.spawn();
    await vk.waitReady(120_000);
    const live = [...tracked.values()].filter((p) => !p.deleted);
    const deleted = [...tracked.values()].filter((p) => p.deleted);
    let pods: k8s.V1Pod[] = [];
    await eventually(
      'every live pod running with its restart count, every deleted pod gone',
      async () => {
        pods = (await core().listNamespacedPod({ namespace: ns.name })).items;
        const byName = new Map(pods.map((p) => [p.metadata?.name, p]));
        if (pods.length !== live.length) return undefined;
        const settled = live.every((p) => {
          const status = byName.get(p.name) && containerStatus(byName.get(p.name)!, 'main');
          return (
            byName.get(p.name)?.status?.phase === 'Running' &&
            status?.state?.running !== undefined &&
            status.ready === true &&
            status.restartCount === p.kills
          );
        });
        return settled ? true : undefined;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 1000,
        lastSeen: () => ({
          tracked: summary(),
          pods: pods.map((p) => ({
            name: p.metadata?.name,
            phase: p.status?.phase,
            deleting: !!p.metadata?.deletionTimestamp,
            main: containerStatus(p, 'main'),
          })),
        }),
      },
    );

    const containers = await podVmContainers(vk.nodeName);
    for (const p of live) {
      const pod = pods.find((x) => x.metadata?.name === p.name)!;
      const mine = containers.filter((c) => c.labels['vic-kubelet.io/pod-uid'] === p.uid);
      const sandboxes = mine.filter((c) => c.labels['vic-kubelet.io/role'] === 'sandbox');
      const apps = mine.filter((c) => c.labels['vic-kubelet.io/role'] === 'app');
      t.is(sandboxes.length, 1, `${p.name}: one sandbox`);
      t.is(sandboxes[0]?.state, 'running', `${p.name}: its sandbox runs`);
      const running = apps.filter((c) => c.state === 'running');
      t.is(running.length, 1, `${p.name}: one running container`);
      const attempts = apps.map((c) => c.labels['vic-kubelet.io/attempt']);
      t.is(
        new Set(attempts).size,
        attempts.length,
        `${p.name}: no attempt made twice (${attempts.join(',')})`,
      );
      const status = containerStatus(pod, 'main');
      t.is(
        status?.containerID,
        `docker://${running[0]?.id}`,
        `${p.name}: status names the running container`,
      );
      t.is(status?.restartCount, p.kills, `${p.name}: restarted only for its ${p.kills} container kills`);
      if (p.kills === 0) {
        // Never restarted: the one container it ever had, started once.
        t.is(apps.length, 1, `${p.name}: one container ever (${attempts.join(',')})`);
        const was = before.get(p.name);
        if (was) {
          t.is(status?.containerID, was.containerID, `${p.name}: same container as before the kills`);
          t.is(status?.state?.running?.startedAt?.toString(), was.state?.running?.startedAt?.toString());
        }
        const inspected = await docker().getContainer(running[0]!.id).inspect();
        t.is(inspected.RestartCount, 0, `${p.name}: the engine never restarted it`);
      }
    }
    for (const p of deleted) {
      t.false(
        containers.some((c) => c.labels['vic-kubelet.io/pod-uid'] === p.uid),
        `${p.name}: pod VM removed`,
      );
    }
    const uids = new Set(live.map((p) => p.uid));
    t.deepEqual(
      containers.filter((c) => !uids.has(c.labels['vic-kubelet.io/pod-uid'] ?? '')).map((c) => c.labels),
      [],
      'nothing else on the VCH for this node',
    );
    const kills = [...tracked.values()].reduce((n, p) => n + p.kills, 0);
    t.log(
      `faults injected: ${rounds} SIGKILLs of vic-kubelet, ${kills} container kills; pods checked: ${tracked.size} (${live.length} live, ${deleted.length} deleted); lost: 0`,
    );
  },
);
