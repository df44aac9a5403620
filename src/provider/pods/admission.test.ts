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
          lifecycle: { preStop: { tcpSocket: { port: 80 } } },
        },
      ],
      initContainers: [{ name: 'side', image: 'i', restartPolicy: 'Always' }],
    },
  } as V1Pod;
  const decision = admit(pod, [], { milliCpu: 1000, memoryBytes: 1e9, pods: 10 });
  t.false(decision.admitted);
  t.deepEqual(unsupportedFields(pod), [
    'spec.containers[main].restartPolicy',
    'spec.containers[main].lifecycle.preStop.tcpSocket',
  ]);
});

test('vm-per-pod: a pod counts what its container VM is sized to, not its requests (VIC’s floor and default)', (t) => {
  const limits = layoutLimits('vm-per-pod');
  const sizing = limits.vmSizing;
  // No requests: VIC's default container VM, 2 vCPUs and 2 GiB.
  t.deepEqual(podRequests(pod(), sizing), { milliCpu: 2000, memoryBytes: 2 * 2 ** 30 });
  // 100m and 64Mi: one vCPU and the 512 MiB floor; the limit wins over the request.
  const small: V1Pod = {
    spec: {
      containers: [
        {
          name: 'c',
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1500m', memory: '700Mi' } },
        },
      ],
    },
  };
  t.deepEqual(podRequests(small, sizing), { milliCpu: 2000, memoryBytes: 768 * 2 ** 20 });
  t.deepEqual(podRequests(pod('100m'), sizing), { milliCpu: 1000, memoryBytes: 2 * 2 ** 30 });
  // The shared layout counts requests, as a kubelet.
  t.deepEqual(podRequests(pod('100m')), { milliCpu: 100, memoryBytes: 0 });
});

test('vm-per-pod: admission fails with OutOfcpu / OutOfmemory when the VMs the VCH would make do not fit', (t) => {
  const limits = layoutLimits('vm-per-pod');
  const room = { milliCpu: 4000, memoryBytes: 3 * 2 ** 30, pods: 110 };
  // One default VM (2 vCPUs) fits in 4 CPUs; a second would too on CPU, not on memory (2 GiB + 2 GiB > 3 GiB).
  t.deepEqual(admit(pod(), [], room, limits), { admitted: true });
  t.deepEqual(admit(pod(), [pod()], room, limits), {
    admitted: false,
    reason: 'OutOfmemory',
    message: `Node didn't have enough resource: memory, requested: ${2 * 2 ** 30}, used: ${2 * 2 ** 30}, capacity: ${3 * 2 ** 30}`,
  });
  // A pod asking 100m is one vCPU: three of them leave one CPU, a fourth asking 1500m (2 vCPUs) does not fit.
  const tiny = (cpu: string): V1Pod => ({
    spec: { containers: [{ name: 'c', resources: { limits: { cpu, memory: '512Mi' } } }] },
  });
  const bigRoom = { ...room, memoryBytes: 64 * 2 ** 30 };
  t.deepEqual(admit(tiny('100m'), [tiny('100m'), tiny('100m')], bigRoom, limits), { admitted: true });
  t.deepEqual(admit(tiny('1500m'), [tiny('100m'), tiny('100m'), tiny('100m')], bigRoom, limits), {
    admitted: false,
    reason: 'OutOfcpu',
    message: "Node didn't have enough resource: cpu, requested: 2000, used: 3000, capacity: 4000",
  });
  // The same pods on the shared layout count their requests and fit.
  t.deepEqual(
    admit(tiny('1500m'), [tiny('100m'), tiny('100m'), tiny('100m')], bigRoom, layoutLimits('shared')),
    {
      admitted: true,
    },
  );
});

test('vm-per-pod: a host address other than 0.0.0.0 on a port is refused at admission, naming the field', (t) => {
  const limits = layoutLimits('vm-per-pod');
  const bound = pod(undefined, {
    containers: [{ name: 'web', ports: [{ containerPort: 80, hostPort: 8080, hostIP: '10.1.2.3' }] }],
  });
  const refused = admit(bound, [], { milliCpu: 8000, memoryBytes: 64 * 2 ** 30, pods: 110 }, limits);
  t.like(refused, { admitted: false, reason: 'UnsupportedPodSpec' });
  t.regex(
    refused.admitted ? '' : refused.message,
    /spec\.containers\[web\]\.ports\[80\]\.hostIP \(10\.1\.2\.3; only 0\.0\.0\.0\)/,
  );
  const any = pod(undefined, {
    containers: [{ name: 'web', ports: [{ containerPort: 80, hostPort: 8080, hostIP: '0.0.0.0' }] }],
  });
  t.deepEqual(layoutUnsupported(any, limits), []);
  t.deepEqual(layoutUnsupported(bound, layoutLimits('shared')), []);
});
