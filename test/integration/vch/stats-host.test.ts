// Stats, host facts and health against the real Docker engine.
import { cpus } from 'node:os';
import test from 'ava';
import { VicError } from '../../../src/shared/errors.js';
import { createVch } from '../../../src/vch/index.js';
import { cleanupNode, container, makeVch, podSpec, startProxy, uniqueNode } from './_helpers.js';

const node = uniqueNode('stats');
const vch = makeVch(node);

const podStats = async (v: typeof vch, uid: string) => (await v.stats.pods([uid])).get(uid);

test.after.always(async () => {
  vch.close();
  await cleanupNode(node);
});

test('a busy container shows CPU time and working-set memory, from one-shot samples read when asked', async (t) => {
  const spec = podSpec(node, 'busy', [
    // Some memory held (a 16 MiB variable in the shell) and one CPU kept busy.
    container('app', {
      command: ['sh', '-c', 'x=$(head -c 16777216 /dev/zero | tr "\\0" a); while true; do :; done'],
    }),
    container('idle', { command: ['sleep', '3600'] }),
  ]);
  await vch.pods.create(spec);
  await vch.pods.start(spec.pod.uid);
  const proxy = await startProxy();
  const watched = makeVch(node, { endpoint: proxy.endpoint });
  t.teardown(async () => {
    watched.close();
    await proxy.close();
  });
  const statsCalls = () => proxy.requests.filter((r) => r.includes('/stats?'));
  const first = await podStats(watched, spec.pod.uid);
  t.deepEqual(first?.pod, spec.pod);
  t.deepEqual(first?.containers.map((c) => c.name).sort(), ['app', 'idle']);
  // A question right after shares the samples: no call to the engine.
  await podStats(watched, spec.pod.uid);
  t.is(statsCalls().length, 2, statsCalls().join(', '));
  // A later question is one more sample per container; the CPU rate is the difference between the two.
  await new Promise((r) => setTimeout(r, 2500));
  const second = await podStats(watched, spec.pod.uid);
  const before = first?.containers.find((c) => c.name === 'app')?.stats;
  const busy = second?.containers.find((c) => c.name === 'app')?.stats;
  t.true((busy?.cpuUsageCoreNanoSeconds ?? 0) > (before?.cpuUsageCoreNanoSeconds ?? 0));
  t.true(
    (busy?.cpuUsageNanoCores ?? 0) > 100_000_000,
    `busy loop uses more than 0.1 core: ${busy?.cpuUsageNanoCores}`,
  );
  t.true((busy?.memoryWorkingSetBytes ?? 0) > 0);
  t.true((busy?.memoryWorkingSetBytes ?? 0) <= (busy?.memoryUsageBytes ?? 0));
  // Every call was one sample, never a stream left open.
  t.is(statsCalls().length, 4);
  t.true(
    statsCalls().every((r) => r.includes('stream=false') && r.includes('one-shot=true')),
    statsCalls().join(', '),
  );
  await vch.pods.remove(spec.pod.uid);
  // A removed pod has no stats.
  t.is(await podStats(watched, spec.pod.uid), undefined);
});

test('host facts describe the engine', async (t) => {
  const facts = await vch.host.facts();
  t.true(facts.cpus >= 1);
  t.is(facts.cpus, cpus().length);
  t.true(facts.memoryBytes > 64 * 2 ** 20);
  t.is(facts.osType, 'linux');
  t.is(facts.architecture, process.arch === 'x64' ? 'amd64' : process.arch);
  t.regex(facts.engineVersion, /^\d+\.\d+/);
  t.regex(facts.apiVersion, /^1\.\d+$/);
  t.regex(facts.kernelVersion, /^\d+\.\d+/);
  t.true(facts.machineId.length > 0);
  t.true(facts.operatingSystem.length > 0);
});

test('health says reachable, or why not', async (t) => {
  t.like(await vch.host.health(2000), { reachable: true });
  const gone = createVch({ endpoint: 'unix:///nonexistent/docker.sock', nodeName: node });
  const health = await gone.host.health(2000);
  t.false(health.reachable);
  t.regex(health.message ?? '', /the VCH at unix:\/\/\/nonexistent\/docker.sock is unreachable \(ENOENT\)/);
  const err = await t.throwsAsync(gone.pods.list(), { instanceOf: VicError });
  t.is(err?.code, 'VchUnavailable');
  gone.close();
});
