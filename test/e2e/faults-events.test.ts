// Fault suite: the engine's /events stream cut again and again while containers exit and restart. This
// vic-kubelet reaches the engine through a proxy (test/support/tcp-proxy.ts on a unix socket) that
// passes everything through but resets, every 700 ms, the connection that carries the /events stream;
// every other request goes on untouched. No status change may be missed: every exit reaches the pod's
// status with its exit code, every crash is restarted and counted. The waits are shorter than the slow
// resync (5 min), so what converges does so through the stream's resume, not the safety net.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { eventually, kubeConfig, testEnv, testNamespace } from '../support/env.js';
import { containerStatus, core, createPod, podOn, shell } from '../support/pods.js';
import { faultSeed, faultsLong, seededPrng } from '../support/prng.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { podVmContainers, VicKubelet } from '../support/vic-kubelet.js';

const cutEveryMs = 700;
const exiting = faultsLong ? 24 : 10;
const crashing = faultsLong ? 6 : 3;

// Under heavy load (load average 40-60) one run saw a container exit never reach its pod's status; after
// the session's merges (per-pod container lists, the status source) two runs at ordinary load pass,
// one of them with that run's seed (VK_FAULTS_SEED=117307026). It runs by default: if the loss comes
// back, this test is where it shows.
test.serial('the engine event stream cut every 700 ms mid-churn: no status change is missed', async (t) => {
  t.timeout(8 * 60_000);
  const prng = seededPrng(faultSeed());
  t.log(`seed ${prng.seed} (VK_FAULTS_SEED=${prng.seed} replays this run)`);
  const engine = testEnv.dockerHost.slice('unix://'.length);
  const proxy = await TcpProxy.start({
    upstream: { path: engine },
    listen: { path: `/var/tmp/vk-fevents-${randomBytes(3).toString('hex')}.sock` },
  });
  const endpoint = `unix://${'path' in proxy.address ? proxy.address.path : ''}`;
  const vk = await VicKubelet.start({ args: ['--vch', endpoint], env: { DOCKER_HOST: endpoint } });
  const ns = await testNamespace(kubeConfig(), 'vk-fevents');
  const cutter: { timer?: NodeJS.Timeout } = {};
  t.teardown(async () => {
    clearInterval(cutter.timer);
    if (!t.passed) t.log(vk.output().slice(-20_000));
    await ns.cleanup();
    await vk.cleanup();
    await proxy.close();
  });
  await vk.waitReady(180_000);
  const isEvents = (c: { requests: string[] }) =>
    c.requests.some((r) => /^GET \/(v[\d.]+\/)?events\b/.test(r));
  await eventually('vic-kubelet to watch the engine events through the proxy', async () =>
    proxy.connections().some(isEvents) ? true : undefined,
  );

  // Containers that exit once, each after its own delay and with its own code, and containers that
  // crash (exit 1) and are restarted, all spread over the time the stream is being cut.
  const want = new Map<string, number>();
  for (let i = 0; i < exiting; i++) {
    const code = prng.int(0, 5);
    const after = prng.int(2, 20);
    want.set(`exit-${i}`, code);
    await createPod(
      ns.name,
      `exit-${i}`,
      podOn(vk.nodeName, {
        restartPolicy: 'Never',
        containers: [shell('main', `sleep ${after}; exit ${code}`)],
      }),
    );
  }
  for (let i = 0; i < crashing; i++) {
    await createPod(
      ns.name,
      `crash-${i}`,
      podOn(vk.nodeName, {
        restartPolicy: 'Always',
        containers: [shell('main', `sleep ${prng.int(2, 6)}; exit 1`)],
      }),
    );
  }
  let cuts = 0;
  cutter.timer = setInterval(() => {
    cuts += proxy.cutWhere(isEvents);
  }, cutEveryMs);

  let pods: Awaited<ReturnType<ReturnType<typeof core>['listNamespacedPod']>>['items'] = [];
  await eventually(
    'every exit in its pod status with its code, every crash restarted at least twice',
    async () => {
      pods = (await core().listNamespacedPod({ namespace: ns.name })).items;
      const exits = [...want].every(([name, code]) => {
        const pod = pods.find((p) => p.metadata?.name === name);
        const done = pod && containerStatus(pod, 'main')?.state?.terminated;
        return done?.exitCode === code && pod?.status?.phase === (code === 0 ? 'Succeeded' : 'Failed');
      });
      const crashes = pods
        .filter((p) => p.metadata?.name?.startsWith('crash-'))
        .every((p) => (containerStatus(p, 'main')?.restartCount ?? 0) >= 2);
      return exits && crashes ? true : undefined;
    },
    {
      timeoutMs: 150_000,
      intervalMs: 1000,
      lastSeen: () =>
        pods.map((p) => ({
          name: p.metadata?.name,
          phase: p.status?.phase,
          main: containerStatus(p, 'main')?.state,
        })),
    },
  );
  clearInterval(cutter.timer);
  t.true(cuts >= 10, `the event stream was cut ${cuts} times`);

  // The restart counts agree with the engine: one container per attempt, none made twice.
  const containers = await podVmContainers(vk.nodeName);
  for (const pod of pods.filter((p) => p.metadata?.name?.startsWith('crash-'))) {
    const apps = containers.filter(
      (c) =>
        c.labels['vic-kubelet.io/pod-uid'] === pod.metadata?.uid && c.labels['vic-kubelet.io/role'] === 'app',
    );
    const attempts = apps.map((c) => Number(c.labels['vic-kubelet.io/attempt']));
    t.is(new Set(attempts).size, attempts.length, `${pod.metadata?.name}: no attempt twice`);
    const restarts = containerStatus(pod, 'main')?.restartCount ?? 0;
    t.true(
      Math.max(...attempts) >= restarts,
      `${pod.metadata?.name}: ${restarts} restarts, attempts ${attempts.join(',')}`,
    );
  }
  t.log(
    `faults injected: ${cuts} cuts of the engine event stream; pods checked: ${exiting + crashing} (${exiting} exits, ${crashing} crash loops); status changes lost: 0`,
  );
});
