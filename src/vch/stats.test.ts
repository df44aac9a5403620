import test from 'ava';
import { FakeClock } from '../shared/fake-clock.js';
import { silentLogger } from '../shared/logger.js';
import type { VchClient } from './client.js';
import { StatsCollector, toContainerStats, type DockerStatsSample } from './stats.js';

test('working set is usage minus inactive file pages, for cgroup v1 and v2 counters', (t) => {
  const v1 = toContainerStats('c', {
    read: '2024-05-01T10:00:00Z',
    cpu_stats: { cpu_usage: { total_usage: 5_000_000 } },
    memory_stats: { usage: 10_000, stats: { total_inactive_file: 3_000, total_rss: 6_000 } },
  });
  t.like(v1, {
    cpuUsageCoreNanoSeconds: 5_000_000,
    memoryUsageBytes: 10_000,
    memoryWorkingSetBytes: 7_000,
    memoryRssBytes: 6_000,
  });
  const v2 = toContainerStats('c', {
    read: '2024-05-01T10:00:00Z',
    memory_stats: { usage: 10_000, stats: { inactive_file: 12_000, anon: 1 } },
  });
  t.like(v2, { memoryWorkingSetBytes: 0, memoryRssBytes: 1 });
});

test('the CPU rate comes from two samples', (t) => {
  const first = toContainerStats('c', {
    read: '2024-05-01T10:00:00Z',
    cpu_stats: { cpu_usage: { total_usage: 1e9 } },
  });
  const second = toContainerStats(
    'c',
    { read: '2024-05-01T10:00:02Z', cpu_stats: { cpu_usage: { total_usage: 2e9 } } },
    first,
  );
  t.is(first?.cpuUsageNanoCores, undefined);
  t.is(second?.cpuUsageNanoCores, 5e8);
});

test('a sample without a read time (a stopped container) is no sample', (t) => {
  t.is(toContainerStats('c', { read: '0001-01-01T00:00:00Z' }), undefined);
  t.is(toContainerStats('c', {}), undefined);
});

/** A VCH client whose engine answers every stats call with the next of `samples`, and logs the calls. */
function engineAnswering(samples: DockerStatsSample[]) {
  const calls: { path?: string; options?: unknown }[] = [];
  const client = {
    endpoint: 'unix:///fake.sock',
    logger: silentLogger,
    docker: {
      modem: {
        dial: (
          options: { path?: string; options?: unknown },
          done: (err: unknown, result?: unknown) => void,
        ) => {
          calls.push({ path: options.path, options: options.options });
          const next = samples.shift();
          setImmediate(() => (next ? done(null, next) : done(new Error('no such container'))));
        },
      },
    },
  } as unknown as VchClient;
  return { client, calls };
}

const at = (iso: string, cpuNs: number): DockerStatsSample => ({
  read: iso,
  cpu_stats: { cpu_usage: { total_usage: cpuNs } },
  memory_stats: { usage: 1000 },
});

test('a question is one one-shot stats call; the next, later, gets the CPU rate from the one before', async (t) => {
  const clock = new FakeClock(0);
  const { client, calls } = engineAnswering([
    at('2024-05-01T10:00:00Z', 1e9),
    at('2024-05-01T10:00:15Z', 4e9),
  ]);
  const collector = new StatsCollector(client, { clock });
  const first = await collector.get('c1');
  t.is(first?.cpuUsageNanoCores, undefined);
  t.deepEqual(calls, [{ path: '/containers/c1/stats?', options: { stream: false, 'one-shot': true } }]);
  clock.advance(15_000);
  const second = await collector.get('c1');
  t.is(second?.cpuUsageCoreNanoSeconds, 4e9);
  t.is(second?.cpuUsageNanoCores, 2e8); // 3 s of CPU in 15 s
  t.is(calls.length, 2);
});

test('questions close together share one engine call; no stream is kept open', async (t) => {
  const clock = new FakeClock(0);
  const { client, calls } = engineAnswering([at('2024-05-01T10:00:00Z', 1e9)]);
  const collector = new StatsCollector(client, { clock, maxAgeMs: 1000 });
  const [a, b] = await Promise.all([collector.get('c1'), collector.get('c1')]);
  clock.advance(500);
  const c = await collector.get('c1');
  t.is(calls.length, 1);
  t.is(a, b);
  t.is(a, c);
});

test('a forgotten container starts afresh: its next sample has no rate; a stopped one has no sample', async (t) => {
  const clock = new FakeClock(0);
  const { client } = engineAnswering([
    at('2024-05-01T10:00:00Z', 1e9),
    at('2024-05-01T10:00:15Z', 4e9),
    { read: '0001-01-01T00:00:00Z' },
  ]);
  const collector = new StatsCollector(client, { clock });
  await collector.get('c1');
  collector.forget('c1');
  t.deepEqual(collector.kept, []);
  clock.advance(15_000);
  t.is((await collector.get('c1'))?.cpuUsageNanoCores, undefined);
  clock.advance(15_000);
  t.is(await collector.get('c1'), undefined);
  clock.advance(15_000);
  t.is(await collector.get('c1'), undefined, 'an engine error is no sample, never a throw');
});
