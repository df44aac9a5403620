import test from 'ava';
import { stampConditions, desiredConditions, conditionsChanged } from './conditions.js';
import {
  declaredFeatures,
  nodeAllocatable,
  nodeCapacity,
  nodeLabels,
  nodeObject,
  nodeStatus,
} from './node-object.js';
import { testNodeConfig } from './testing.js';
import type { HostFacts, NodeConfig } from './types.js';

const config: NodeConfig = testNodeConfig;
const facts = { cpus: 4, memoryBytes: 8 * 2 ** 30, osType: 'linux', architecture: 'x86_64' } as HostFacts;

test('labels a user expects of a virtual node, plus configured ones', (t) => {
  t.like(nodeLabels(config, facts), {
    type: 'virtual-kubelet',
    'kubernetes.io/role': 'agent',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': 'vic-1',
    zone: 'a',
  });
});

test('capacity comes from the VCH unless configured; allocatable holds back the reserve', (t) => {
  t.deepEqual(nodeCapacity(config, { ...facts, storageBytes: 100 * 2 ** 30 }), {
    cpu: '4',
    memory: '8Gi',
    pods: '110',
    'ephemeral-storage': '100Gi',
  });
  const capacity = nodeCapacity(
    { ...config, capacityOverrides: { cpu: '16', 'ephemeral-storage': '20Gi' } },
    facts,
  );
  t.is(capacity.cpu, '16');
  t.deepEqual(nodeAllocatable(capacity, { cpu: '250m', memory: '512Mi', pods: '10' }), {
    cpu: '15750m',
    memory: '7680Mi',
    pods: '100',
    'ephemeral-storage': '20Gi',
  });
  t.is(nodeAllocatable(capacity, { memory: '64Gi' }).memory, '0');
});

test('storage the VCH does not report is left out of capacity, never written as 0', (t) => {
  const capacity = nodeCapacity(config, facts);
  t.false('ephemeral-storage' in capacity);
  t.false('ephemeral-storage' in nodeAllocatable(capacity, { 'ephemeral-storage': '1Gi' }));
});

test('pressure conditions are False only when measured, Unknown otherwise', (t) => {
  const measured = desiredConditions({ reachable: true }, { storageBytes: 100, storageAvailableBytes: 50 });
  t.like(
    measured.find((c) => c.type === 'DiskPressure'),
    { status: 'False' },
  );
  const full = desiredConditions({ reachable: true }, { storageBytes: 100, storageAvailableBytes: 5 });
  t.like(
    full.find((c) => c.type === 'DiskPressure'),
    { status: 'True', reason: 'KubeletHasDiskPressure' },
  );
  const blind = desiredConditions({ reachable: true }, {});
  for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    t.like(
      blind.find((c) => c.type === type),
      { status: 'Unknown', reason: 'NodeStatusUnknown' },
      type,
    );
  }
});

test('Ready follows the VCH; a transition time moves only when a status changes', (t) => {
  const first = stampConditions(desiredConditions({ reachable: true }), undefined, new Date(1000));
  const again = stampConditions(desiredConditions({ reachable: true }), first, new Date(2000));
  t.deepEqual(again.find((c) => c.type === 'Ready')?.lastTransitionTime, new Date(1000));
  t.deepEqual(again.find((c) => c.type === 'Ready')?.lastHeartbeatTime, new Date(2000));
  t.false(conditionsChanged(first, again));
  const down = stampConditions(
    desiredConditions({ reachable: false, reason: 'connect ECONNREFUSED' }),
    again,
    new Date(3000),
  );
  const ready = down.find((c) => c.type === 'Ready');
  t.like(ready, {
    status: 'False',
    reason: 'KubeletNotReady',
    message: 'VCH is unreachable: connect ECONNREFUSED',
  });
  t.deepEqual(ready?.lastTransitionTime, new Date(3000));
  t.true(conditionsChanged(again, down));
});

test('the status declares ExtendWebSocketsToKubelet, in the form the API server validates', (t) => {
  const status = nodeStatus({ config, facts, conditions: [], hostnameResolves: false });
  t.true(status.declaredFeatures.includes('ExtendWebSocketsToKubelet'));
  // Sorted, unique, UpperCamelCase segments: apis/core/validation rejects the whole status otherwise.
  t.deepEqual(status.declaredFeatures, [...new Set(declaredFeatures)].sort());
  for (const name of status.declaredFeatures) t.regex(name, /^[A-Z][a-zA-Z0-9]*(\/[a-zA-Z][a-zA-Z0-9]*)*$/);
  t.like(status, {
    addresses: [{ type: 'InternalIP', address: '192.0.2.10' }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    capacity: { cpu: '4', pods: '110' },
  });
});

test('what the VCH is and can do shows on the Node: layout and product labels, abilities annotation', (t) => {
  const vch = {
    product: 'vic',
    layout: 'vm-per-pod',
    abilities: { layout: 'vm-per-pod', abilities: { exec: true } },
  };
  const node = nodeObject(config, { ...facts, vch });
  t.like(node.metadata?.labels, {
    'vic-kubelet.io/layout': 'vm-per-pod',
    'vic-kubelet.io/vch-product': 'vic',
  });
  t.deepEqual(JSON.parse(node.metadata?.annotations?.['vic-kubelet.io/vch-abilities'] ?? ''), vch.abilities);
});
