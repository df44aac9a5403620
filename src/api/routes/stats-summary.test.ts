import test from 'ava';
import { cannedUsage } from '../testing/usage.js';
import { summaryOf } from './stats-summary.js';

test('the summary carries the stats/v1alpha1 field names', (t) => {
  const summary = summaryOf(cannedUsage());
  t.deepEqual(summary.node, {
    nodeName: 'vk-test',
    startTime: '2024-05-01T00:00:00Z',
    cpu: { time: '2024-05-01T12:00:10Z', usageNanoCores: 250e6, usageCoreNanoSeconds: 90e9 },
    memory: {
      time: '2024-05-01T12:00:10Z',
      availableBytes: 1536 * 2 ** 20,
      usageBytes: 600 * 2 ** 20,
      workingSetBytes: 512 * 2 ** 20,
    },
  });
  const web = summary.pods[0];
  t.deepEqual(web?.podRef, { name: 'web', namespace: 'default', uid: 'uid-web' });
  t.is(web?.startTime, '2024-05-01T11:00:00Z');
  t.deepEqual(web?.containers[0], {
    name: 'nginx',
    startTime: '2024-05-01T11:00:01Z',
    cpu: { time: '2024-05-01T12:00:10Z', usageNanoCores: 600000, usageCoreNanoSeconds: 2e9 },
    memory: { time: '2024-05-01T12:00:10Z', workingSetBytes: 12e6 },
  });
  t.deepEqual(web?.cpu, { time: '2024-05-01T12:00:10Z', usageNanoCores: 1e6, usageCoreNanoSeconds: 3e9 });
});

test('a container without a sample is listed without figures', (t) => {
  const fresh = summaryOf(cannedUsage()).pods[1];
  t.deepEqual(fresh?.containers, [{ name: 'app', startTime: '2024-05-01T12:00:09Z' }]);
  t.is(fresh?.cpu, undefined);
  t.is(fresh?.memory, undefined);
});
