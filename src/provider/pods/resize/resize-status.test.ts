import test from 'ava';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { PodVmStatus } from '../../../vch/types.js';
import { staleResizeConditions, withResize } from './resize-status.js';

const now = new Date('2026-11-29T12:00:00Z');
const resources = { requests: { cpu: '150m' }, limits: { cpu: '300m' } };
const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u', generation: 3 },
  spec: { containers: [{ name: 'main', image: 'i', resources }] },
  status: {
    containerStatuses: [
      {
        name: 'main',
        image: 'i',
        imageID: '',
        ready: true,
        restartCount: 0,
        allocatedResources: { cpu: '100m' },
        resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } },
      },
    ],
  },
};
const built: V1PodStatus = {
  conditions: [{ type: 'Ready', status: 'True' }],
  containerStatuses: [{ name: 'main', image: 'i', imageID: '', ready: true, restartCount: 0 }],
};
const vm = (nanoCpus: number, cpuShares: number): PodVmStatus => ({
  pod: { namespace: 'ns', name: 'p', uid: 'u' },
  nodeName: 'n',
  initContainers: [],
  containers: [
    {
      name: 'main',
      role: 'app',
      attempt: 0,
      id: 'c',
      image: 'i',
      imageId: '',
      state: { kind: 'running', startedAt: now },
      restartCount: 0,
      applied: { nanoCpus, cpuShares },
    },
  ],
});

test('applied as asked: the spec is allocated and actual', (t) => {
  const s = withResize(built, pod, { vm: vm(300_000_000, 153), report: {}, now });
  t.deepEqual(s.containerStatuses?.[0]?.allocatedResources, { cpu: '150m' });
  t.deepEqual(s.containerStatuses?.[0]?.resources, resources);
  t.deepEqual(
    staleResizeConditions(
      { ...pod, status: { ...pod.status, conditions: [{ type: 'PodResizePending', status: 'True' }] } },
      s,
    ),
    ['PodResizePending'],
  );
});

test('pending: the last allocation and resources stay, and the condition carries reason and generation', (t) => {
  const pending = { reason: 'Infeasible' as const, message: "Node didn't have enough capacity: cpu" };
  const s = withResize(built, pod, { vm: vm(200_000_000, 102), report: { pending }, now });
  t.deepEqual(s.containerStatuses?.[0]?.allocatedResources, { cpu: '100m' });
  t.deepEqual(s.containerStatuses?.[0]?.resources?.limits, { cpu: '200m' });
  t.like(
    s.conditions?.find((c) => c.type === 'PodResizePending'),
    {
      status: 'True',
      reason: 'Infeasible',
      message: pending.message,
      observedGeneration: 3,
    },
  );
});
