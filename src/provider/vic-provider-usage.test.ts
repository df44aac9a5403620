// VicProvider.usage() over pods as the informer holds them: a pod that came through a watch event is
// plain JSON, its timestamps strings although client-node types them as Date.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { ResourceMetrics } from '../api/routes/resource-metrics.js';
import { parseExposition } from '../api/testing/prometheus-text.js';
import { silentLogger } from '../shared/logger.js';
import type { ContainerStats } from '../vch/index.js';
import { VicProvider, type VicProviderOptions } from './vic-provider.js';

const sampled = new Date('2026-01-02T03:04:10.000Z');

/** A Running pod exactly as JSON.parse gives it from a watch event. */
const watchedPod = JSON.parse(
  JSON.stringify({
    metadata: { namespace: 'ns', name: 'busy', uid: 'uid-1' },
    spec: { containers: [{ name: 'main' }] },
    status: {
      phase: 'Running',
      startTime: '2026-01-02T03:04:05Z',
      containerStatuses: [{ name: 'main', state: { running: { startedAt: '2026-01-02T03:04:06Z' } } }],
    },
  }),
) as V1Pod;

function provider(pod: V1Pod): VicProvider {
  const stats: ContainerStats = {
    containerId: 'c1',
    time: sampled,
    cpuUsageCoreNanoSeconds: 3e9,
    memoryUsageBytes: 4 << 20,
    memoryWorkingSetBytes: 3 << 20,
  };
  return new VicProvider({
    // Only stats are reached by usage().
    vch: {
      stats: {
        pods: async (uids: readonly string[]) =>
          new Map(uids.map((uid) => [uid, { pod: { uid }, containers: [{ name: 'main', stats }] }])),
      },
    } as unknown as VicProviderOptions['vch'],
    pods: { pods: () => [pod], pod: () => pod },
    nodeName: 'vk',
    startTime: new Date('2026-01-01T00:00:00Z'),
  });
}

test('usage reads the start times of a pod that came through a watch as dates', async (t) => {
  const usage = await provider(watchedPod).usage();
  const pod = usage.pods[0];
  t.deepEqual(pod?.startTime, new Date('2026-01-02T03:04:05Z'));
  t.deepEqual(pod?.containers[0]?.startTime, new Date('2026-01-02T03:04:06Z'));
  t.is(pod?.containers[0]?.workingSetBytes, 3 << 20);
});

test('/metrics/resource carries such a pod, with no scrape error', async (t) => {
  const metrics = new ResourceMetrics({ source: provider(watchedPod), logger: silentLogger });
  const parsed = parseExposition(await metrics.scrape());
  const value = (name: string) => parsed.samples.find((s) => s.name === name)?.value;
  t.is(value('resource_scrape_error'), 0);
  t.is(value('container_start_time_seconds'), Date.parse('2026-01-02T03:04:06Z') / 1000);
  t.is(value('container_cpu_usage_seconds_total'), 3);
  t.is(value('pod_memory_working_set_bytes'), 3 << 20);
});

test('an unreadable start time falls back to the pod start, then to the node start', async (t) => {
  const pod = structuredClone(watchedPod);
  (pod.status as unknown as { startTime: string }).startTime = 'not a time';
  const usage = await provider(pod).usage();
  t.deepEqual(usage.pods[0]?.startTime, new Date('2026-01-01T00:00:00Z'));
  t.deepEqual(usage.pods[0]?.containers[0]?.startTime, new Date('2026-01-02T03:04:06Z'));
});

test('the node’s usage is the sum of its pods’, without vic-kubelet’s own process', async (t) => {
  const usage = await provider(watchedPod).usage();
  t.is(usage.total.workingSetBytes, 3 << 20);
  t.is(usage.total.usageCoreNanoSeconds, 3e9);
});
