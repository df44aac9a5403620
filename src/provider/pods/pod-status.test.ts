import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerStatus, PodVmStatus } from '../../vch/types.js';
import { buildPodStatus, podPhase, qosClass } from './pod-status.js';
import { planPod } from './state/container-plan.js';
import { layoutLimits } from '../../vch/layout/limits.js';

const now = new Date(100_000);
const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  spec: { restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox' }] },
  status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(1000) }] },
};

function vmWith(main: ContainerStatus | undefined): PodVmStatus {
  return {
    pod: { namespace: 'ns', name: 'web', uid: 'u1' },
    nodeName: 'n',
    podIP: '10.1.2.3',
    sandbox: { ...running('POD'), role: 'sandbox' },
    initContainers: [],
    containers: main ? [main] : [],
  };
}

function running(name: string): ContainerStatus {
  return {
    name,
    role: 'app',
    attempt: 0,
    id: name,
    image: 'busybox',
    imageId: 'sha256:abc',
    state: { kind: 'running', startedAt: new Date(50_000) },
    restartCount: 0,
  };
}

test('a running pod VM is Running and Ready, with IPs, QoS and the scheduler’s condition kept', (t) => {
  const vm = vmWith(running('main'));
  const status = buildPodStatus({
    pod,
    vm,
    plan: planPod(pod, vm, now.getTime()),
    waiting: new Map(),
    hostIP: '192.0.2.1',
    now,
  });
  t.is(status.phase, 'Running');
  t.is(status.podIP, '10.1.2.3');
  t.deepEqual(status.podIPs, [{ ip: '10.1.2.3' }]);
  t.is(status.qosClass, 'BestEffort');
  t.deepEqual(
    status.conditions?.map((c) => `${c.type}=${c.status}`),
    [
      'PodReadyToStartContainers=True',
      'Initialized=True',
      'Ready=True',
      'ContainersReady=True',
      'PodScheduled=True',
    ],
  );
  t.deepEqual(status.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime, new Date(1000));
  t.like(status.containerStatuses?.[0], {
    name: 'main',
    ready: true,
    started: true,
    containerID: 'docker://main',
  });
});

test('a container waiting out its back-off shows CrashLoopBackOff with the last run as lastState', (t) => {
  const crashed: ContainerStatus = {
    ...running('main'),
    attempt: 1,
    restartCount: 1,
    state: { kind: 'terminated', exitCode: 2, reason: 'Error', finishedAt: new Date(99_000) },
  };
  const vm = vmWith(crashed);
  const status = buildPodStatus({
    pod,
    vm,
    plan: planPod(pod, vm, now.getTime()),
    waiting: new Map(),
    hostIP: 'h',
    now,
  });
  const main = status.containerStatuses?.[0];
  t.is(main?.state?.waiting?.reason, 'CrashLoopBackOff');
  t.is(main?.state?.waiting?.message, 'back-off 10s restarting failed container=main pod=web_ns(u1)');
  t.is(main?.lastState?.terminated?.exitCode, 2);
  t.is(status.phase, 'Running');
  t.is(status.conditions?.find((c) => c.type === 'Ready')?.reason, 'ContainersNotReady');
});

test('an image pull failure shows as the waiting reason of a container not created yet', (t) => {
  const vm = vmWith(undefined);
  const waiting = new Map([['main', { reason: 'ErrImagePull', message: 'not found' }]]);
  const status = buildPodStatus({
    pod,
    vm,
    plan: planPod(pod, vm, now.getTime()),
    waiting,
    hostIP: 'h',
    now,
  });
  t.deepEqual(status.containerStatuses?.[0]?.state, {
    waiting: { reason: 'ErrImagePull', message: 'not found' },
  });
  t.is(status.phase, 'Pending');
});

test('QoS classes follow requests and limits', (t) => {
  const withResources = (requests?: Record<string, string>, limits?: Record<string, string>): V1Pod => ({
    spec: {
      containers: [
        { name: 'c', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } },
      ],
    },
  });
  t.is(qosClass(withResources()), 'BestEffort');
  t.is(qosClass(withResources({ cpu: '1' })), 'Burstable');
  t.is(qosClass(withResources({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })), 'Guaranteed');
});

test('where each container is a VM, its status reports the VM’s size as its resources; elsewhere none', (t) => {
  const vm = vmWith(running('main'));
  const inputs = {
    pod,
    vm,
    plan: planPod(pod, vm, now.getTime()),
    waiting: new Map(),
    hostIP: '192.0.2.1',
    now,
  };
  const sized = buildPodStatus({ ...inputs, vmSizing: layoutLimits('vm-per-pod').vmSizing! });
  // No requests: VIC's default container VM.
  t.deepEqual(sized.containerStatuses?.[0]?.resources, {
    requests: { cpu: '2', memory: '2Gi' },
    limits: { cpu: '2', memory: '2Gi' },
  });
  t.is(buildPodStatus(inputs).containerStatuses?.[0]?.resources, undefined);
});

test('lastState keeps the termination message and container ID of the attempt before (kuberuntime_container.go)', (t) => {
  const main: ContainerStatus = {
    ...running('main'),
    id: 'second',
    attempt: 1,
    restartCount: 1,
    lastState: { kind: 'terminated', exitCode: 3, reason: 'Error', finishedAt: new Date(40_000) },
    lastStateId: 'first',
  };
  const vm = vmWith(main);
  const messages = new Map([['first', 'first attempt: disk full']]);
  const status = buildPodStatus({
    pod,
    vm,
    plan: planPod(pod, vm, now.getTime()),
    waiting: new Map(),
    terminationMessage: (id) => messages.get(id),
    hostIP: '192.0.2.1',
    now,
  });
  const terminated = status.containerStatuses?.[0]?.lastState?.terminated;
  t.is(terminated?.message, 'first attempt: disk full');
  t.is(terminated?.exitCode, 3);
  t.is(terminated?.containerID, 'docker://first');
  t.truthy(status.containerStatuses?.[0]?.state?.running);
});

test('a running sidecar keeps a pod whose app ended Running; once it stopped the pod Succeeded (kubelet getPhase)', (t) => {
  const sidecars = new Set(['proxy']);
  const app = [{ name: 'app', state: { terminated: { exitCode: 0 } } }] as never;
  const proxy = (state: object) => [{ name: 'proxy', started: true, state }] as never;
  t.is(podPhase('Never', proxy({ running: {} }), app, false, sidecars), 'Running');
  t.is(podPhase('Never', proxy({ terminated: { exitCode: 137 } }), app, false, sidecars), 'Succeeded');
  // A regular init container that completed does not count as running.
  t.is(
    podPhase('Never', [{ name: 'setup', state: { terminated: { exitCode: 0 } } }] as never, app, false),
    'Succeeded',
  );
});
