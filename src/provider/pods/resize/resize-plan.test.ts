import test from 'ava';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { layoutLimits } from '../../../vch/layout/limits.js';
import type { ContainerStatus, PodVmStatus } from '../../../vch/types.js';
import { decideResize } from './resize-plan.js';

const allocatable = { milliCpu: 4000, memoryBytes: 8 * 1024 ** 3, pods: 110 };

const pod = (main: Partial<V1Container>): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u', generation: 2 },
  spec: { containers: [{ name: 'main', image: 'i', ...main }] },
});

// What the container runs with: 100m request (102 shares), 200m limit, 128 MiB limit.
const running: ContainerStatus = {
  name: 'main',
  role: 'app',
  attempt: 0,
  id: 'c1',
  image: 'i',
  imageId: 'sha256:x',
  state: { kind: 'running', startedAt: new Date(0) },
  restartCount: 0,
  applied: { cpuShares: 102, nanoCpus: 200_000_000, memoryBytes: 128 * 1024 ** 2 },
};
const vm: PodVmStatus = {
  pod: { namespace: 'ns', name: 'p', uid: 'u' },
  nodeName: 'n',
  initContainers: [],
  containers: [running],
};
const asApplied = { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '128Mi' } };

test('a container that runs what its spec asks needs nothing', (t) => {
  t.deepEqual(decideResize({ pod: pod({ resources: asApplied }), vm, allocatable, others: [] }), {
    actions: [],
  });
});

test('a changed limit is an update in place unless its resizePolicy says RestartContainer', (t) => {
  const resources = { requests: { cpu: '100m' }, limits: { cpu: '300m', memory: '128Mi' } };
  const update = decideResize({ pod: pod({ resources }), vm, allocatable, others: [] });
  t.is(update.actions[0]?.how, 'update');
  t.deepEqual(update.actions[0]?.resources.limits, { nanoCpus: 300_000_000, memoryBytes: 128 * 1024 ** 2 });
  const memoryOnly = { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '256Mi' } };
  const policy = [
    { resourceName: 'cpu', restartPolicy: 'NotRequired' },
    { resourceName: 'memory', restartPolicy: 'RestartContainer' },
  ];
  t.is(
    decideResize({ pod: pod({ resources: memoryOnly, resizePolicy: policy }), vm, allocatable, others: [] })
      .actions[0]?.how,
    'restart',
  );
  // The CPU change alone does not restart a container whose memory policy is RestartContainer.
  t.is(
    decideResize({ pod: pod({ resources, resizePolicy: policy }), vm, allocatable, others: [] }).actions[0]
      ?.how,
    'update',
  );
});

test('beyond the node is Infeasible, beyond what other pods leave is Deferred, with the kubelet messages', (t) => {
  const huge = { requests: { cpu: '5' }, limits: { cpu: '5', memory: '128Mi' } };
  t.deepEqual(decideResize({ pod: pod({ resources: huge }), vm, allocatable, others: [] }), {
    pending: {
      reason: 'Infeasible',
      message: "Node didn't have enough capacity: cpu, requested: 5000, capacity: 4000",
    },
    actions: [],
  });
  const big = { requests: { cpu: '3' }, limits: { cpu: '3', memory: '128Mi' } };
  const other = pod({ resources: { requests: { cpu: '2' } } });
  t.deepEqual(decideResize({ pod: pod({ resources: big }), vm, allocatable, others: [other] }).pending, {
    reason: 'Deferred',
    message: "Node didn't have enough resource: cpu, requested: 3000, used: 2000, capacity: 4000",
  });
});

test('a layout that cannot change a running container refuses the resize as Infeasible, saying why', (t) => {
  const resources = { requests: { cpu: '100m' }, limits: { cpu: '300m', memory: '128Mi' } };
  const d = decideResize({
    pod: pod({ resources }),
    vm,
    allocatable,
    others: [],
    limits: layoutLimits('vm-per-pod'),
  });
  t.is(d.pending?.reason, 'Infeasible');
  t.regex(d.pending?.message ?? '', /^In-place resize is not possible on this node: .*vm-per-pod/);
  t.deepEqual(d.actions, []);
});
