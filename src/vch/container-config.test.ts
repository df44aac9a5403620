import test from 'ava';
import { VicError } from '../shared/errors.js';
import {
  containerCreateOptions,
  podEnvelope,
  podHostname,
  resolveCommand,
  resourceConfig,
  sandboxCreateOptions,
} from './container-config.js';
import { Label } from './labels.js';
import type { PodVmSpec } from './types.js';

const image = { entrypoint: ['/entry'], cmd: ['default-arg'] };

test('command and args follow Kubernetes: command replaces ENTRYPOINT and drops CMD, args replace CMD', (t) => {
  const c = { name: 'c', image: 'i' };
  t.deepEqual(resolveCommand(c, image), { entrypoint: ['/entry'], cmd: ['default-arg'] });
  t.deepEqual(resolveCommand({ ...c, command: ['/bin/sh'] }, image), { entrypoint: ['/bin/sh'], cmd: [] });
  t.deepEqual(resolveCommand({ ...c, args: ['x'] }, image), { entrypoint: ['/entry'], cmd: ['x'] });
  t.deepEqual(resolveCommand({ ...c, command: ['/bin/sh'], args: ['-c', 'true'] }, image), {
    entrypoint: ['/bin/sh'],
    cmd: ['-c', 'true'],
  });
  t.deepEqual(resolveCommand({ ...c, args: [] }, image), { entrypoint: ['/entry'], cmd: [] });
});

test('a container with nothing to run is refused with a message naming it', (t) => {
  const err = t.throws(
    () => resolveCommand({ name: 'c', image: 'scratch-app' }, { entrypoint: [], cmd: [] }),
    {
      instanceOf: VicError,
    },
  );
  t.is(err?.code, 'Invalid');
  t.regex(err?.message ?? '', /container "c".*no ENTRYPOINT or CMD/);
});

test('resources become Docker limits: NanoCpus, shares from the request, memory and reservation', (t) => {
  t.deepEqual(
    resourceConfig({
      limits: { nanoCpus: 500_000_000, memoryBytes: 64 * 2 ** 20 },
      requests: { nanoCpus: 250_000_000, memoryBytes: 32 * 2 ** 20 },
    }),
    { NanoCpus: 500_000_000, CpuShares: 256, Memory: 64 * 2 ** 20, MemoryReservation: 32 * 2 ** 20 },
  );
  t.deepEqual(resourceConfig({ limits: { nanoCpus: 1000 }, requests: { nanoCpus: 1000 } }), {
    NanoCpus: 10_000_000,
    CpuShares: 2,
  });
  t.deepEqual(resourceConfig(undefined), {});
});

const spec: PodVmSpec = {
  pod: { namespace: 'ns', name: 'web', uid: 'u-1' },
  nodeName: 'node-a',
  containers: [
    {
      name: 'app',
      image: 'busybox',
      command: ['sleep', '3600'],
      ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP', hostPort: 5353 }],
      resources: { limits: { nanoCpus: 1e9, memoryBytes: 2 ** 27 } },
      env: [{ name: 'A', value: '1' }],
      volumeMounts: [{ source: 'data', containerPath: '/mnt', readOnly: true }],
    },
    { name: 'side', image: 'busybox', resources: { limits: { nanoCpus: 5e8, memoryBytes: 2 ** 26 } } },
  ],
  terminationGracePeriodSeconds: 7,
  dns: { nameservers: ['10.0.0.10'], searches: ['ns.svc.cluster.local'] },
  volumes: [{ name: 'data' }],
};

test('the sandbox owns hostname, ports and the pod envelope', (t) => {
  const o = sandboxCreateOptions(spec, { image: 'pause', attempt: 0 });
  t.is(o.name, 'k8s_POD_web_ns_u-1_0');
  t.is(o.Hostname, 'web');
  t.deepEqual(o.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  t.deepEqual(o.HostConfig?.PortBindings, { '53/udp': [{ HostPort: '5353' }] });
  t.is(o.HostConfig?.IpcMode, 'shareable');
  t.is(o.HostConfig?.NanoCpus, 1.5e9);
  t.is(o.HostConfig?.Memory, 2 ** 27 + 2 ** 26);
  t.deepEqual(o.HostConfig?.Dns, ['10.0.0.10']);
  t.is(o.Labels?.[Label.role], 'sandbox');
  t.is(o.Labels?.[Label.gracePeriod], '7');
  // Every pod volume is mounted in the sandbox, where content is written over the archive endpoint.
  t.deepEqual(o.HostConfig?.Mounts, [
    {
      Type: 'volume',
      Source: 'k8s_vol_data_u-1',
      Target: '/.vic-kubelet/volumes/data',
      VolumeOptions: { NoCopy: true },
    },
  ]);
});

test('a mount of a volume the pod VM does not have is refused, never a host path', (t) => {
  const c = { name: 'x', image: 'busybox', volumeMounts: [{ source: '/etc', containerPath: '/host' }] };
  const err = t.throws(() =>
    containerCreateOptions({ ...spec, containers: [c] }, c, {
      sandboxId: 'sb',
      role: 'app',
      index: 0,
      attempt: 0,
      image: { entrypoint: [], cmd: ['sh'] },
    }),
  );
  t.regex(err.message, /mounts volume "\/etc", which the pod VM does not have/);
});

test('a pod container joins the sandbox and carries no hostname or ports', (t) => {
  const o = containerCreateOptions(spec, spec.containers[0]!, {
    sandboxId: 'sb',
    role: 'app',
    index: 0,
    attempt: 2,
    image: { entrypoint: [], cmd: ['sh'] },
  });
  t.is(o.name, 'k8s_app_web_ns_u-1_2');
  t.is(o.HostConfig?.NetworkMode, 'container:sb');
  t.is(o.HostConfig?.IpcMode, 'container:sb');
  t.is(o.Hostname, undefined);
  t.is(o.ExposedPorts, undefined);
  t.deepEqual(o.Entrypoint, ['sleep', '3600']);
  t.deepEqual(o.Cmd, []);
  t.deepEqual(o.Env, ['A=1']);
  t.is(o.StopTimeout, 7);
  t.deepEqual(o.HostConfig?.Mounts, [
    {
      Type: 'volume',
      Source: 'k8s_vol_data_u-1',
      Target: '/mnt',
      ReadOnly: true,
      VolumeOptions: { NoCopy: true },
    },
  ]);
  t.is(o.Labels?.[Label.attempt], '2');
  t.is(o.Labels?.[Label.containerName], 'app');
});

test("the envelope is the larger of the app containers' sum and the biggest init container", (t) => {
  const big = { name: 'init', image: 'i', resources: { limits: { memoryBytes: 2 ** 30 } } };
  t.deepEqual(podEnvelope(spec).limits, { nanoCpus: 1.5e9, memoryBytes: 2 ** 27 + 2 ** 26 });
  t.deepEqual(podEnvelope({ ...spec, initContainers: [big] }).limits, {
    nanoCpus: 1.5e9,
    memoryBytes: 2 ** 30,
  });
  // One app container without a limit: the pod has none.
  t.deepEqual(
    podEnvelope({ ...spec, containers: [...spec.containers, { name: 'free', image: 'i' }] }).limits,
    {},
  );
});

test('a pod hostname is cut to 63 characters without a trailing dash', (t) => {
  t.is(podHostname({ ...spec, pod: { ...spec.pod, name: `${'a'.repeat(62)}-b` } }), 'a'.repeat(62));
  t.is(podHostname({ ...spec, hostname: 'custom' }), 'custom');
});

test('an ephemeral container joins the sandbox, and its target container PID namespace with --target', (t) => {
  const debug = { name: 'dbg', image: 'busybox', command: ['sh'], stdin: true, tty: true };
  const withTarget = containerCreateOptions(spec, debug, {
    sandboxId: 'sb',
    role: 'ephemeral',
    index: 0,
    attempt: 0,
    image,
    pidTargetId: 'main-id',
  });
  t.is(withTarget.HostConfig?.NetworkMode, 'container:sb');
  t.is(withTarget.HostConfig?.IpcMode, 'container:sb');
  t.is(withTarget.HostConfig?.PidMode, 'container:main-id');
  t.is(withTarget.Labels?.[Label.role], 'ephemeral');
  t.true(withTarget.Tty && withTarget.OpenStdin);
  const alone = containerCreateOptions(spec, debug, {
    sandboxId: 'sb',
    role: 'ephemeral',
    index: 0,
    attempt: 0,
    image,
  });
  t.is(alone.HostConfig?.PidMode, undefined);
});

test('a store volume (a claim) is mounted by its own name, by the sandbox too (its root takes fsGroup)', (t) => {
  const withClaim: PodVmSpec = { ...spec, volumes: [{ name: 'data', source: 'pvc-1234' }] };
  const sandbox = sandboxCreateOptions(withClaim, { image: 'pause', attempt: 0 });
  t.deepEqual(sandbox.HostConfig?.Mounts, [
    {
      Type: 'volume',
      Source: 'pvc-1234',
      Target: '/.vic-kubelet/volumes/data',
      VolumeOptions: { NoCopy: true },
    },
  ]);
  const o = containerCreateOptions(withClaim, withClaim.containers[0]!, {
    sandboxId: 'sb',
    role: 'app',
    index: 0,
    attempt: 0,
    image: { entrypoint: [], cmd: ['sh'] },
  });
  t.deepEqual(o.HostConfig?.Mounts, [
    { Type: 'volume', Source: 'pvc-1234', Target: '/mnt', ReadOnly: true, VolumeOptions: { NoCopy: true } },
  ]);
});
