import test from 'ava';
import { silentLogger } from '../../shared/logger.js';
import { parseExposition } from '../testing/prometheus-text.js';
import { cannedUsage, sampleTime } from '../testing/usage.js';
import { ResourceMetrics } from './resource-metrics.js';

const ts = sampleTime.getTime();

test('the families and samples of the kubelet, with sample timestamps', async (t) => {
  const metrics = new ResourceMetrics({ source: { usage: async () => cannedUsage() }, logger: silentLogger });
  const parsed = parseExposition(await metrics.scrape());
  t.is(parsed.types.get('node_cpu_usage_seconds_total'), 'counter');
  t.is(parsed.types.get('container_memory_working_set_bytes'), 'gauge');
  t.is(
    parsed.help.get('node_cpu_usage_seconds_total'),
    '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
  );
  const find = (name: string, labels: Record<string, string> = {}) =>
    parsed.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );

  t.deepEqual(find('node_cpu_usage_seconds_total'), [
    { name: 'node_cpu_usage_seconds_total', labels: {}, value: 90, timestamp: ts },
  ]);
  t.deepEqual(find('node_memory_working_set_bytes'), [
    { name: 'node_memory_working_set_bytes', labels: {}, value: 512 * 2 ** 20, timestamp: ts },
  ]);
  t.deepEqual(find('container_cpu_usage_seconds_total', { container: 'nginx' }), [
    {
      name: 'container_cpu_usage_seconds_total',
      labels: { container: 'nginx', pod: 'web', namespace: 'default' },
      value: 2,
      timestamp: ts,
    },
  ]);
  t.is(find('container_memory_working_set_bytes', { container: 'sidecar' })[0]?.value, 8e6);
  t.deepEqual(find('container_start_time_seconds', { container: 'nginx' }), [
    {
      name: 'container_start_time_seconds',
      labels: { container: 'nginx', pod: 'web', namespace: 'default' },
      value: Date.parse('2024-05-01T11:00:01Z') / 1000,
    },
  ]);
  t.deepEqual(find('pod_cpu_usage_seconds_total'), [
    {
      name: 'pod_cpu_usage_seconds_total',
      labels: { pod: 'web', namespace: 'default' },
      value: 3,
      timestamp: ts,
    },
  ]);
  t.is(find('pod_memory_working_set_bytes', { pod: 'web' })[0]?.value, 20e6);
  t.deepEqual(find('resource_scrape_error'), [{ name: 'resource_scrape_error', labels: {}, value: 0 }]);
});

test('never a zero: a container or pod without a sample is left out', async (t) => {
  const metrics = new ResourceMetrics({ source: { usage: async () => cannedUsage() }, logger: silentLogger });
  const parsed = parseExposition(await metrics.scrape());
  t.false(parsed.samples.some((s) => s.labels.pod === 'fresh'));
  for (const s of parsed.samples) {
    if (s.name !== 'resource_scrape_error') t.not(s.value, 0, s.name);
  }
});

test('labels are escaped and read back', async (t) => {
  const usage = cannedUsage();
  const container = usage.pods[0]?.containers[0];
  if (container) container.name = 'we"ird\\name';
  const metrics = new ResourceMetrics({ source: { usage: async () => usage }, logger: silentLogger });
  const parsed = parseExposition(await metrics.scrape());
  t.true(parsed.samples.some((s) => s.labels.container === 'we"ird\\name'));
});

test('a failing source sets resource_scrape_error and nothing else', async (t) => {
  const metrics = new ResourceMetrics({
    source: { usage: () => Promise.reject(new Error('VCH down')) },
    logger: silentLogger,
  });
  const parsed = parseExposition(await metrics.scrape());
  t.deepEqual(parsed.samples, [{ name: 'resource_scrape_error', labels: {}, value: 1 }]);
});

test('each scrape starts afresh: a pod gone is no longer reported', async (t) => {
  let usage = cannedUsage();
  const metrics = new ResourceMetrics({ source: { usage: async () => usage }, logger: silentLogger });
  await metrics.scrape();
  usage = { ...usage, pods: [] };
  const parsed = parseExposition(await metrics.scrape());
  t.false(parsed.samples.some((s) => s.name.startsWith('pod_') || s.name.startsWith('container_')));
  t.false(parsed.types.has('pod_cpu_usage_seconds_total'));
});
