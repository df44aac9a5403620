// Fault suite: the Docker engine (this node's VCH) stopped for 20 s (VK_FAULTS_LONG=1: 60 s) and
// started again. A private dockerd (test/support/dockerd.ts) with --live-restore, so that containers
// outlive their engine as they would on a VCH; the shared engine is never touched. While it is down one
// container is killed and another exits with a code of its own. The node goes NotReady and back, no
// pod is deleted, the container that kept running is not restarted, the killed one is restarted per
// its policy, and the exit reaches the status.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import Docker from 'dockerode';
import type * as k8s from '@kubernetes/client-node';
import { PrivateDockerd } from '../support/dockerd.js';
import { docker, eventually, kubeConfig, testEnv, testNamespace } from '../support/env.js';
import { containerStatus, core, createPod, podOn, podWhere, shell } from '../support/pods.js';
import { faultsLong } from '../support/prng.js';
import { VicKubelet } from '../support/vic-kubelet.js';

const run = promisify(execFile);
const outageMs = faultsLong ? 60_000 : 20_000;

async function copyImage(to: Docker, name: string): Promise<void> {
  const tar = await docker().getImage(name).get();
  const stream = await to.loadImage(tar);
  await new Promise((resolve, reject) =>
    to.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))),
  );
}

function readyOf(node: k8s.V1Node): k8s.V1NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

test.serial(
  `the engine stopped for ${outageMs / 1000} s: NotReady and back, no pod deleted, statuses converge`,
  async (t) => {
    t.timeout(outageMs + 8 * 60_000);
    const vch = new PrivateDockerd({
      liveRestore: true,
      bridge: { name: 'vk-br-faults', cidr: '172.31.252.1/24' },
    });
    await vch.start();
    const engine = new Docker({ socketPath: vch.socket });
    const state: { vk?: VicKubelet; ns?: Awaited<ReturnType<typeof testNamespace>> } = {};
    t.teardown(async () => {
      if (!t.passed && state.vk) t.log(state.vk.output().slice(-20_000));
      await state.ns?.cleanup();
      await state.vk?.cleanup();
      // Live-restored containers outlive their engine: remove them before it goes.
      if (!(await engine.ping().catch(() => false))) await vch.start();
      for (const c of await engine.listContainers({ all: true })) {
        await engine
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
      }
      await vch.stop();
      // The containerd that this dockerd started, if it stayed behind: found by its own folder.
      const left = await run('pgrep', ['-f', vch.dir]).catch(() => ({ stdout: '' }));
      for (const pid of left.stdout.split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      // Mounts that live restore kept under its folder go before the folder does.
      const mounts = (await run('awk', ['{print $2}', '/proc/mounts'])).stdout.split('\n');
      for (const m of mounts.filter((x) => x.startsWith(vch.dir)).reverse()) {
        await run('umount', ['-l', m]).catch(() => undefined);
      }
      await vch.destroy();
    });
    await copyImage(engine, testEnv.busyboxImage);
    await copyImage(engine, testEnv.pauseImage);
    const vk = await VicKubelet.start({ env: { DOCKER_HOST: vch.endpoint }, args: ['--vch', vch.endpoint] });
    state.vk = vk;
    const ns = await testNamespace(kubeConfig(), 'vk-fengine');
    state.ns = ns;
    await vk.waitReady(180_000);
    const on = (spec: Parameters<typeof podOn>[1]) =>
      podOn(vk.nodeName, { terminationGracePeriodSeconds: 1, ...spec });
    await createPod(ns.name, 'steady', on({ containers: [shell('main', 'sleep 3600')] }));
    await createPod(ns.name, 'killed', on({ containers: [shell('main', 'sleep 3600')] }));
    await createPod(
      ns.name,
      'exits',
      on({
        restartPolicy: 'Never',
        containers: [shell('main', 'trap "exit 5" TERM; while true; do sleep 0.2; done')],
      }),
    );
    const before = new Map<string, k8s.V1Pod>();
    for (const name of ['steady', 'killed', 'exits']) {
      before.set(
        name,
        await podWhere(
          ns.name,
          name,
          'running',
          (p) => !!containerStatus(p, 'main')?.state?.running,
          180_000,
        ),
      );
    }
    const pidOf = async (name: string) => {
      const id = containerStatus(before.get(name)!, 'main')!.containerID!.replace('docker://', '');
      return (await engine.getContainer(id).inspect()).State.Pid;
    };
    const killedPid = await pidOf('killed');
    const exitsPid = await pidOf('exits');

    await vch.stop();
    const stoppedAt = Date.now();
    const notReady = await eventually(
      'Ready=False',
      async () => {
        const c = readyOf(await core().readNode({ name: vk.nodeName }));
        return c?.status === 'False' ? c : undefined;
      },
      { timeoutMs: 90_000 },
    );
    t.regex(notReady.message ?? '', /VCH is unreachable/);
    process.kill(killedPid, 'SIGKILL');
    process.kill(exitsPid, 'SIGTERM');
    const remaining = outageMs - (Date.now() - stoppedAt);
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    t.true(vk.running, 'vic-kubelet runs through the outage');
    await vch.start();
    await vk.waitReady(120_000);

    await podWhere(
      ns.name,
      'killed',
      'restarted once and running',
      (p) => containerStatus(p, 'main')?.restartCount === 1 && !!containerStatus(p, 'main')?.state?.running,
      120_000,
    );
    const exits = await podWhere(
      ns.name,
      'exits',
      'terminated with exit code 5',
      (p) => containerStatus(p, 'main')?.state?.terminated?.exitCode === 5,
      120_000,
    );
    t.is(exits.status?.phase, 'Failed');
    for (const [name, was] of before) {
      const now = await core().readNamespacedPod({ name, namespace: ns.name });
      t.is(now.metadata?.uid, was.metadata?.uid, `${name}: the same pod, never deleted`);
      t.falsy(now.metadata?.deletionTimestamp, `${name}: not being deleted`);
    }
    const steady = await core().readNamespacedPod({ name: 'steady', namespace: ns.name });
    const was = containerStatus(before.get('steady')!, 'main');
    t.is(containerStatus(steady, 'main')?.containerID, was?.containerID, 'steady keeps its container');
    t.is(containerStatus(steady, 'main')?.restartCount, 0);
    t.is(
      containerStatus(steady, 'main')?.state?.running?.startedAt?.toString(),
      was?.state?.running?.startedAt?.toString(),
    );
    const sandboxes = (await engine.listContainers({ all: true })).filter(
      (c) => c.Labels['vic-kubelet.io/role'] === 'sandbox',
    );
    t.is(sandboxes.length, 3, 'one sandbox per pod');
    t.log(
      `faults injected: 1 engine outage of ${outageMs / 1000} s, 1 container killed and 1 exit during it; pods checked: 3; lost: 0`,
    );
  },
);
