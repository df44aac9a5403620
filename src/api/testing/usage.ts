// Canned usage for tests of /stats/summary and /metrics/resource: a node with two pods, one of them with a
// container that has no sample yet.
import type { NodeUsage } from '../../provider/kubelet-api.js';

export const sampleTime = new Date('2024-05-01T12:00:10Z');

export function cannedUsage(): NodeUsage {
  return {
    nodeName: 'vk-test',
    startTime: new Date('2024-05-01T00:00:00Z'),
    total: {
      time: sampleTime,
      usageCoreNanoSeconds: 90e9,
      usageNanoCores: 250e6,
      workingSetBytes: 512 * 2 ** 20,
      usageBytes: 600 * 2 ** 20,
      availableBytes: 1536 * 2 ** 20,
    },
    pods: [
      {
        pod: { namespace: 'default', name: 'web', uid: 'uid-web' },
        startTime: new Date('2024-05-01T11:00:00Z'),
        total: { time: sampleTime, usageCoreNanoSeconds: 3e9, usageNanoCores: 1e6, workingSetBytes: 20e6 },
        containers: [
          {
            name: 'nginx',
            startTime: new Date('2024-05-01T11:00:01Z'),
            time: sampleTime,
            usageCoreNanoSeconds: 2e9,
            usageNanoCores: 6e5,
            workingSetBytes: 12e6,
          },
          {
            name: 'sidecar',
            startTime: new Date('2024-05-01T11:00:02Z'),
            time: sampleTime,
            usageCoreNanoSeconds: 1e9,
            workingSetBytes: 8e6,
          },
        ],
      },
      {
        pod: { namespace: 'ns-2', name: 'fresh', uid: 'uid-fresh' },
        startTime: new Date('2024-05-01T12:00:09Z'),
        total: { time: sampleTime, usageCoreNanoSeconds: 0, workingSetBytes: 0 },
        containers: [
          {
            name: 'app',
            startTime: new Date('2024-05-01T12:00:09Z'),
            time: sampleTime,
            usageCoreNanoSeconds: 0,
            workingSetBytes: 0,
          },
        ],
      },
    ],
  };
}
