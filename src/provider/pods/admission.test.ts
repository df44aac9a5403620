import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { layoutLimits } from '../../vch/layout/limits.js';
import { admit, layoutUnsupported, podRequests, unsupportedFields } from './admission.js';

const node = { milliCpu: 2000, memoryBytes: 4 * 2 ** 30, pods: 3 };
const pod = (cpu?: string, extra: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod => ({
  spec: { containers: [{ name: 'c', resources: cpu ? { requests: { cpu } } : {} }], ...extra },
});

test('a pod that fits is admitted', (t) => {
  t.deepEqual(admit(pod('1'), [pod('500m')], node), { admitted: true });
});

test('a pod over what is left of allocatable fails with the kubelet’s reason and message', (t) => {
  t.deepEqual(admit(pod('1600m'), [pod('500m')], node), {
    admitted: false,
    reason: 'OutOfcpu',
    message: "Node didn't have enough resource: cpu, requested: 1600, used: 500, capacity: 2000",
  });
  t.like(admit(pod(), [pod(), pod(), pod()], node), { admitted: false, reason: 'OutOfpods' });
});

test('host namespaces, hostPath volumes and privileged containers are refused with the fields named', (t) => {
  const refused = admit(
    pod(undefined, {
      hostNetwork: true,
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      initContainers: [{ name: 'i', securityContext: { privileged: true } }],
    }),
    [],
    node,
  );
  t.like(refused, { admitted: false, reason: 'UnsupportedPodSpec' });
  t.regex(
    (refused as { message: string }).message,
    /spec\.hostNetwork, spec\.volumes\[root\]\.hostPath, spec\.initContainers\[i\]\.securityContext\.privileged are not supported/,
  );
});

test('the effective request is the larger of the biggest init container and the sum of the app containers', (t) => {
  const p: V1Pod = {
    spec: {
      initContainers: [{ name: 'i', resources: { requests: { cpu: '3', memory: '1Gi' } } }],
      containers: [
        { name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' } } },
        { name: 'b', resources: { requests: { cpu: '1', memory: '1Gi' } } },
      ],
    },
  };
  t.deepEqual(podRequests(p), { milliCpu: 3000, memoryBytes: 2 * 2 ** 30 });
});

test('in the vm-per-pod layout, two long-running containers or a sidecar are refused with the limit named', (t) => {
  const limits = layoutLimits('vm-per-pod');
  const two = pod(undefined, { containers: [{ name: 'a' }, { name: 'b' }] });
  const refused = admit(two, [], node, limits);
  t.like(refused, { admitted: false, reason: 'UnsupportedPodSpec' });
  t.regex(
    refused.admitted ? '' : refused.message,
    /^Pod cannot run in a pod VM on this node: spec\.containers \(2 long-running containers; at most 1\): this VCH runs every container as its own VM/,
  );
  const sidecar = pod(undefined, { initContainers: [{ name: 'log', restartPolicy: 'Always' }] });
  t.like(admit(sidecar, [], node, limits), { admitted: false, reason: 'UnsupportedPodSpec' });
  t.deepEqual(layoutUnsupported(sidecar, limits), [
    'spec.initContainers[log].restartPolicy: Always (a sidecar)',
  ]);
  t.deepEqual(admit(two, [], node, layoutLimits('shared')), { admitted: true });
  t.deepEqual(admit(pod(), [], node, limits), { admitted: true });
  const ip = pod(undefined, {
    containers: [
      { name: 'c', env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] },
    ],
  });
  t.deepEqual(layoutUnsupported(ip, limits), [
    'spec.containers[c].env[IP] (status.podIP is not known before the container VM starts)',
  ]);
  t.deepEqual(layoutUnsupported(ip, layoutLimits('shared')), []);
});

test('lifecycle fields the node does not implement are refused by name', (t) => {
  const pod = {
    metadata: { name: 'p' },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'i',
          restartPolicy: 'Always',
          lifecycle: { preStop: { tcpSocket: { port: 80 } }, stopSignal: 'SIGUSR1' },
        },
      ],
      initContainers: [{ name: 'side', image: 'i', restartPolicy: 'Always' }],
    },
  } as V1Pod;
  const decision = admit(pod, [], { milliCpu: 1000, memoryBytes: 1e9, pods: 10 });
  t.false(decision.admitted);
  t.deepEqual(unsupportedFields(pod), [
    'spec.containers[main].restartPolicy',
    'spec.containers[main].lifecycle.stopSignal',
    'spec.containers[main].lifecycle.preStop.tcpSocket',
  ]);
});
