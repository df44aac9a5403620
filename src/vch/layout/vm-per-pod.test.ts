import test from 'ava';
import type { PodVmSpec } from '../types.js';
import { checkVmPerPod, vmPerPodCreateOptions, vmSize } from './vm-per-pod.js';

const spec: PodVmSpec = {
  pod: { namespace: 'ns', name: 'web', uid: 'u1' },
  nodeName: 'n1',
  terminationGracePeriodSeconds: 7,
  dns: { nameservers: ['10.0.0.10'] },
  initContainers: [{ name: 'setup', image: 'busybox', command: ['true'] }],
  containers: [
    {
      name: 'app',
      image: 'busybox',
      command: ['sleep', '1'],
      ports: [{ containerPort: 80, hostPort: 8080 }],
      volumeMounts: [{ source: 'data', containerPath: '/data', readOnly: true }],
      resources: { limits: { memoryBytes: 64 * 2 ** 20, nanoCpus: 1.5e9 } },
    },
  ],
};
const image = { entrypoint: [], cmd: ['sh'] };

test('the app container is the pod VM: hostname, ports, DNS and named volumes on it, no shared namespace', (t) => {
  const o = vmPerPodCreateOptions(spec, spec.containers[0]!, { role: 'app', index: 0, attempt: 0, image });
  t.is(o.Hostname, 'web');
  t.deepEqual(o.ExposedPorts, { '80/tcp': {} });
  t.deepEqual(o.HostConfig?.PortBindings, { '80/tcp': [{ HostPort: '8080' }] });
  t.deepEqual(o.HostConfig?.Dns, ['10.0.0.10']);
  // The pod volume "data" is the pod's own named volume on the VCH.
  t.deepEqual(o.HostConfig?.Binds, ['k8s_vol_data_u1:/data:ro']);
  for (const field of ['NetworkMode', 'IpcMode', 'PidMode', 'Mounts', 'Privileged'] as const) {
    t.is(o.HostConfig?.[field], undefined, field);
  }
  t.like(o.Labels, { 'vic-kubelet.io/layout': 'vm-per-pod', 'vic-kubelet.io/termination-grace-period': '7' });
  // 64 Mi is below a container VM's floor; 1.5 CPUs is 2 vCPUs.
  t.is(o.HostConfig?.Memory, 512 * 2 ** 20);
  t.is(o.HostConfig?.CpusetCpus, '2');
  // What the spec asked, kept beside the VM's size: a resize compares the spec with this, not the VM.
  const asked = JSON.parse(o.Labels?.['vic-kubelet.io/resources'] ?? '{}') as { memoryBytes?: number };
  t.is(asked.memoryBytes, 64 * 2 ** 20);
});

test('an init container is its own VM without the pod ports', (t) => {
  const o = vmPerPodCreateOptions(spec, spec.initContainers![0]!, {
    role: 'init',
    index: 0,
    attempt: 0,
    image,
  });
  t.deepEqual(o.ExposedPorts, {});
  t.like(o.Labels, { 'vic-kubelet.io/role': 'init', 'vic-kubelet.io/layout': 'vm-per-pod' });
  // No request or limit: nothing stated, VIC gives its default size (what admission counted).
  t.is(o.HostConfig?.Memory, undefined);
  t.is(o.HostConfig?.CpusetCpus, undefined);
});

test('sizes: the request when there is no limit, and the floor', (t) => {
  t.deepEqual(vmSize({ requests: { memoryBytes: 2 ** 30, nanoCpus: 250e6 } }), {
    Memory: 2 ** 30,
    CpusetCpus: '1',
  });
  t.deepEqual(vmSize(undefined), {});
  // Memory aligned up to 128 MiB for hot-add; CPU not asked: left to VIC's default.
  t.deepEqual(vmSize({ limits: { memoryBytes: 600 * 2 ** 20 } }), { Memory: 640 * 2 ** 20 });
});

test('a port bound to a host address other than 0.0.0.0 is refused: VIC binds the public interface only', (t) => {
  const bound = {
    ...spec,
    containers: [
      { ...spec.containers[0]!, ports: [{ containerPort: 80, hostPort: 80, hostIP: '10.1.2.3' }] },
    ],
  };
  t.throws(() => checkVmPerPod(bound), { message: /binds host address 10.1.2.3/ });
  const any = {
    ...spec,
    containers: [{ ...spec.containers[0]!, ports: [{ containerPort: 80, hostPort: 80, hostIP: '0.0.0.0' }] }],
  };
  t.notThrows(() => checkVmPerPod(any));
});

test('what the layout cannot lay out is refused before anything is made', (t) => {
  const two = { ...spec, containers: [...spec.containers, { name: 'side', image: 'busybox' }] };
  t.throws(() => checkVmPerPod(two), { message: /2 long-running containers, at most 1/ });
  t.throws(() => checkVmPerPod({ ...spec, shareProcessNamespace: true }), {
    message: /shareProcessNamespace/,
  });
  const bind = {
    ...spec,
    containers: [{ ...spec.containers[0]!, volumeMounts: [{ source: '/etc', containerPath: '/x' }] }],
  };
  t.throws(() => checkVmPerPod(bind), { message: /host path \/etc/ });
  t.notThrows(() => checkVmPerPod(spec));
});

test('a store volume (a claim) is bound by its own name in the container VM', (t) => {
  const withClaim: PodVmSpec = { ...spec, volumes: [{ name: 'data', source: 'pvc-1234' }] };
  const o = vmPerPodCreateOptions(withClaim, withClaim.containers[0]!, {
    role: 'app',
    index: 0,
    attempt: 0,
    image,
  });
  t.deepEqual(o.HostConfig?.Binds, ['pvc-1234:/data:ro']);
});
