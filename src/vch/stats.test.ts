import test from 'ava';
import { toContainerStats } from './stats.js';

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
