// In-place pod resize (`kubectl patch pod --subresource resize`) on the virtual node, against the real
// engine and API server: the limits the container sees in its cgroup change without a restart
// (resizePolicy NotRequired) or with one (RestartContainer); the status reports allocatedResources,
// resources and observedGeneration; a resize beyond what the node's other pods leave is
// PodResizePending/Deferred and changes nothing (one beyond allocatable the 1.37 API server refuses
// itself); the vm-per-pod layout (the VIC contract proxy) refuses resize as Infeasible, saying why.
// This engine uses cgroup v1 (checked: `docker info` says Cgroup Version 1), so the files are
// cpu.cfs_quota_us (period 100000) and memory.limit_in_bytes.
import test from 'ava';
import type * as k8s from '@kubernetes/client-node';
import { docker, kubectl, testEnv } from '../support/env.js';
import {
  allRunning,
  containerStatus,
  createPod,
  podEvents,
  podOn,
  podWhere,
  shell,
} from '../support/pods.js';
import { vicProxyForFile } from '../support/vic-proxy.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-resize');
const vic = vicProxyForFile(test, testEnv.dockerHost);
const vicNode = virtualNodeForFile(test, 'vk-resize-vic', { args: ['--vch', vic.endpoint] });

const mi = 1024 * 1024;

function sized(
  cpu: [string, string],
  memory: [string, string] | undefined,
  resizePolicy?: k8s.V1ContainerResizePolicy[],
): k8s.V1Container {
  return shell('main', 'sleep 3600', {
    resources: {
      requests: { cpu: cpu[0], ...(memory ? { memory: memory[0] } : {}) },
      limits: { cpu: cpu[1], ...(memory ? { memory: memory[1] } : {}) },
    },
    ...(resizePolicy ? { resizePolicy } : {}),
  });
}

async function resize(ns: string, pod: string, resources: k8s.V1ResourceRequirements): Promise<void> {
  const patch = JSON.stringify({ spec: { containers: [{ name: 'main', resources }] } });
  const r = await kubectl(['patch', 'pod', '-n', ns, pod, '--subresource', 'resize', '--patch', patch]);
  if (r.exitCode !== 0) throw new Error(`kubectl patch --subresource resize: ${r.stderr}`);
}

/** The CPU quota (µs per 100 ms) and memory limit the container's cgroup holds. */
async function cgroupLimits(ns: string, pod: string): Promise<{ quota: number; memory: number }> {
  const r = await kubectl([
    'exec',
    '-n',
    ns,
    pod,
    '-c',
    'main',
    '--',
    'cat',
    '/sys/fs/cgroup/cpu/cpu.cfs_quota_us',
    '/sys/fs/cgroup/memory/memory.limit_in_bytes',
  ]);
  const [quota, memory] = r.stdout.trim().split('\n').map(Number);
  if (r.exitCode !== 0 || quota === undefined || memory === undefined) throw new Error(`cat: ${r.stderr}`);
  return { quota, memory };
}

const condition = (pod: k8s.V1Pod, type: string) => pod.status?.conditions?.find((c) => c.type === type);

test.serial(
  'a resize changes the cgroup limits in place: no restart, status and generation follow',
  async (t) => {
    await createPod(
      node.ns,
      'r',
      podOn(node.vk.nodeName, { containers: [sized(['100m', '200m'], ['64Mi', '128Mi'])] }),
    );
    await allRunning(node.ns, 'r');
    t.deepEqual(await cgroupLimits(node.ns, 'r'), { quota: 20_000, memory: 128 * mi });

    await resize(node.ns, 'r', {
      requests: { cpu: '150m', memory: '96Mi' },
      limits: { cpu: '300m', memory: '192Mi' },
    });
    const pod = await podWhere(node.ns, 'r', 'the resize allocated and applied', (p) => {
      const s = containerStatus(p, 'main');
      return s?.allocatedResources?.cpu === '150m' && s.resources?.limits?.cpu === '300m';
    });
    const s = containerStatus(pod, 'main');
    t.deepEqual(s?.allocatedResources, { cpu: '150m', memory: '96Mi' });
    t.deepEqual(JSON.parse(JSON.stringify(s?.resources ?? {})), {
      limits: { cpu: '300m', memory: '192Mi' },
      requests: { cpu: '150m', memory: '96Mi' },
    });
    t.is(s?.restartCount, 0);
    t.truthy(s?.state?.running);
    t.is(pod.metadata?.generation, 2);
    t.is(pod.status?.observedGeneration, 2);
    t.is(condition(pod, 'Ready')?.observedGeneration, 2);
    t.is(condition(pod, 'PodResizePending'), undefined);
    t.is(condition(pod, 'PodResizeInProgress'), undefined);
    t.deepEqual(await cgroupLimits(node.ns, 'r'), { quota: 30_000, memory: 192 * mi });
    const reasons = (await podEvents(node.ns, 'r')).map((e) => e.reason);
    t.true(reasons.includes('ResizeStarted') && reasons.includes('ResizeCompleted'), reasons.join(','));

    // Beyond what the node's other pods leave: pending as Deferred, with the kubelet's message; nothing
    // changes. (Beyond the node's allocatable, Infeasible, the 1.37 API server itself refuses the patch:
    // "node didn't have enough allocatable resources"; resize-plan.test.ts covers the node's side.)
    const hog = shell('main', 'sleep 3600', { resources: { requests: { cpu: '1500m' } } });
    await createPod(node.ns, 'hog', podOn(node.vk.nodeName, { containers: [hog] }));
    await allRunning(node.ns, 'hog');
    await resize(node.ns, 'r', {
      requests: { cpu: '800m', memory: '96Mi' },
      limits: { cpu: '900m', memory: '192Mi' },
    });
    const pending = await podWhere(
      node.ns,
      'r',
      'PodResizePending',
      (p) => !!condition(p, 'PodResizePending'),
    );
    const c = condition(pending, 'PodResizePending');
    t.is(c?.status, 'True');
    t.is(c?.reason, 'Deferred');
    t.regex(
      c?.message ?? '',
      /^Node didn't have enough resource: cpu, requested: 800, used: 1500, capacity: \d+$/,
    );
    t.is(c?.observedGeneration, 3);
    t.deepEqual(containerStatus(pending, 'main')?.allocatedResources, { cpu: '150m', memory: '96Mi' });
    t.is(containerStatus(pending, 'main')?.resources?.limits?.cpu, '300m');
    t.is(containerStatus(pending, 'main')?.restartCount, 0);
    t.deepEqual(await cgroupLimits(node.ns, 'r'), { quota: 30_000, memory: 192 * mi });
    t.true(
      (await podEvents(node.ns, 'r')).some((e) => e.reason === 'ResizeDeferred' && e.type === 'Warning'),
    );

    // The container crashes while the resize is pending: its next attempt runs with what it was
    // allocated (300m, 192Mi), not with the 900m the node has not admitted.
    const crashed = containerStatus(pending, 'main')?.containerID?.replace('docker://', '') ?? '';
    await docker().getContainer(crashed).kill({ signal: 'SIGKILL' });
    const restarted = await podWhere(
      node.ns,
      'r',
      'restarted after the crash, resize still pending',
      (p) => containerStatus(p, 'main')?.restartCount === 1 && !!containerStatus(p, 'main')?.state?.running,
      120_000,
    );
    t.is(condition(restarted, 'PodResizePending')?.reason, 'Deferred');
    t.deepEqual(await cgroupLimits(node.ns, 'r'), { quota: 30_000, memory: 192 * mi });
    t.deepEqual(containerStatus(restarted, 'main')?.allocatedResources, { cpu: '150m', memory: '96Mi' });

    // A feasible resize again: the pending condition goes.
    await resize(node.ns, 'r', {
      requests: { cpu: '100m', memory: '96Mi' },
      limits: { cpu: '250m', memory: '192Mi' },
    });
    const done = await podWhere(
      node.ns,
      'r',
      'pending cleared and applied',
      (p) =>
        !condition(p, 'PodResizePending') && containerStatus(p, 'main')?.resources?.limits?.cpu === '250m',
    );
    t.is(containerStatus(done, 'main')?.restartCount, 1, 'applied in place: no restart beyond the crash');
    t.is((await cgroupLimits(node.ns, 'r')).quota, 25_000);
  },
);

test.serial('resizePolicy RestartContainer: the container restarts with the new memory limit', async (t) => {
  const policy = [
    { resourceName: 'cpu', restartPolicy: 'NotRequired' },
    { resourceName: 'memory', restartPolicy: 'RestartContainer' },
  ];
  await createPod(
    node.ns,
    'rr',
    podOn(node.vk.nodeName, { containers: [sized(['100m', '200m'], ['64Mi', '128Mi'], policy)] }),
  );
  await allRunning(node.ns, 'rr');
  await resize(node.ns, 'rr', {
    requests: { cpu: '100m', memory: '64Mi' },
    limits: { cpu: '200m', memory: '160Mi' },
  });
  const pod = await podWhere(
    node.ns,
    'rr',
    'restarted with the new memory limit',
    (p) => containerStatus(p, 'main')?.restartCount === 1 && !!containerStatus(p, 'main')?.state?.running,
  );
  t.is(containerStatus(pod, 'main')?.resources?.limits?.memory, '160Mi');
  t.deepEqual(await cgroupLimits(node.ns, 'rr'), { quota: 20_000, memory: 160 * mi });
});

test.serial('vm-per-pod: a resize is refused as Infeasible, saying why', async (t) => {
  await createPod(
    vicNode.ns,
    'r',
    podOn(vicNode.vk.nodeName, { containers: [sized(['100m', '200m'], undefined)] }),
  );
  // The vm-per-pod node starts a container VM per pod through the proxy: slower on a loaded machine.
  await podWhere(
    vicNode.ns,
    'r',
    'main running',
    (p) => !!p.status?.containerStatuses?.[0]?.state?.running,
    180_000,
  );
  await resize(vicNode.ns, 'r', { requests: { cpu: '150m' }, limits: { cpu: '300m' } });
  const pod = await podWhere(vicNode.ns, 'r', 'PodResizePending', (p) => !!condition(p, 'PodResizePending'));
  const c = condition(pod, 'PodResizePending');
  t.is(c?.reason, 'Infeasible');
  t.regex(c?.message ?? '', /^In-place resize is not possible on this node: .*vm-per-pod/);
  t.is(containerStatus(pod, 'main')?.restartCount, 0);
  t.deepEqual(vic.proxy.refused, []);
});
