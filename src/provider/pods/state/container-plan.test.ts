import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerState, ContainerStatus, PodVmStatus } from '../../../vch/types.js';
import { crashBackoff, planPod } from './container-plan.js';

const pod = (restartPolicy: string, inits: string[] = [], apps = ['main']): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: {
    restartPolicy,
    initContainers: inits.map((name) => ({ name, image: 'i' })),
    containers: apps.map((name) => ({ name, image: 'i' })),
  },
});

const status = (
  name: string,
  role: 'init' | 'app',
  state: ContainerState,
  attempt = 0,
  backoffFrom?: number,
): ContainerStatus => ({
  name,
  role,
  attempt,
  id: `${name}${attempt}`,
  image: 'i',
  imageId: 'sha256:x',
  state,
  restartCount: attempt,
  ...(backoffFrom !== undefined ? { backoffFrom } : {}),
});

const vm = (init: ContainerStatus[], apps: ContainerStatus[]): PodVmStatus => ({
  pod: { namespace: 'ns', name: 'p', uid: 'u' },
  nodeName: 'n',
  initContainers: init,
  containers: apps,
});

const exited = (exitCode: number, finishedMs: number): ContainerState => ({
  kind: 'terminated',
  exitCode,
  reason: exitCode ? 'Error' : 'Completed',
  startedAt: new Date(finishedMs - 100),
  finishedAt: new Date(finishedMs),
});

const ran = (ms: number): ContainerState => ({
  kind: 'terminated',
  exitCode: 1,
  reason: 'Error',
  startedAt: new Date(0),
  finishedAt: new Date(ms),
});

test('the crash back-off: immediate first restart, then 10 s doubling to 5 min', (t) => {
  const delays = [0, 1, 2, 6, 12].map(
    (attempt) => crashBackoff(status('m', 'app', ran(100), attempt)).delayMs,
  );
  t.deepEqual(delays, [0, 10_000, 20_000, 300_000, 300_000]);
});

test('a run of 10 min starts a new back-off series, and the reset holds for every later crash', (t) => {
  // Attempt 5 ran 10 min: restarted at once, and attempt 6 carries the new series' start.
  t.deepEqual(crashBackoff(status('m', 'app', ran(600_000), 5)), { delayMs: 0, backoffFrom: 5 });
  // Attempts 6 and 7 crash quickly: 10 s, then 20 s, as after the first crash of a fresh container.
  t.deepEqual(crashBackoff(status('m', 'app', ran(100), 6, 5)), { delayMs: 10_000, backoffFrom: 5 });
  t.deepEqual(crashBackoff(status('m', 'app', ran(100), 7, 5)), { delayMs: 20_000, backoffFrom: 5 });
});

test('a pod with nothing on the VCH runs its first init container only', (t) => {
  const plan = planPod(pod('Always', ['a', 'b']), undefined, 0);
  t.deepEqual(plan.containers, [
    { name: 'a', role: 'init', action: { kind: 'run', attempt: 0, backoffFrom: 0 } },
  ]);
  t.false(plan.initialized);
});

test('init containers run in order; the app starts once all have completed', (t) => {
  const after = planPod(pod('Always', ['a', 'b']), vm([status('a', 'init', exited(0, 1000))], []), 2000);
  t.deepEqual(after.containers.at(-1), {
    name: 'b',
    role: 'init',
    action: { kind: 'run', attempt: 0, backoffFrom: 0 },
  });
  const done = planPod(
    pod('Always', ['a', 'b']),
    vm([status('a', 'init', exited(0, 1000)), status('b', 'init', exited(0, 1500))], []),
    2000,
  );
  t.true(done.initialized);
  t.deepEqual(done.containers.at(-1), {
    name: 'main',
    role: 'app',
    action: { kind: 'run', attempt: 0, backoffFrom: 0 },
  });
});

test('a failed init container fails the pod under Never and is retried otherwise', (t) => {
  const failed = vm([status('a', 'init', exited(1, 1000))], []);
  t.true(planPod(pod('Never', ['a']), failed, 2000).initFailed);
  const retried = planPod(pod('Always', ['a']), failed, 2000);
  t.false(retried.initFailed);
  t.deepEqual(retried.containers[0]?.action, { kind: 'run', attempt: 1, backoffFrom: 0 });
});

test('restart policies decide what happens to an exited app container', (t) => {
  const ok = vm([], [status('main', 'app', exited(0, 1000))]);
  const bad = vm([], [status('main', 'app', exited(2, 1000))]);
  t.deepEqual(planPod(pod('Never'), bad, 2000).containers[0]?.action, { kind: 'none' });
  t.deepEqual(planPod(pod('OnFailure'), ok, 2000).containers[0]?.action, { kind: 'none' });
  t.deepEqual(planPod(pod('OnFailure'), bad, 2000).containers[0]?.action, {
    kind: 'run',
    attempt: 1,
    backoffFrom: 0,
  });
  t.deepEqual(planPod(pod('Always'), ok, 2000).containers[0]?.action, {
    kind: 'run',
    attempt: 1,
    backoffFrom: 0,
  });
});

test('a second crash waits out the back-off, then runs the next attempt', (t) => {
  const crashed = vm([], [status('main', 'app', exited(1, 1000), 1)]);
  t.deepEqual(planPod(pod('Always'), crashed, 5000).containers[0]?.action, {
    kind: 'backoff',
    untilMs: 11_000,
    delayMs: 10_000,
  });
  t.deepEqual(planPod(pod('Always'), crashed, 11_000).containers[0]?.action, {
    kind: 'run',
    attempt: 2,
    backoffFrom: 0,
  });
});

test('a container created but never started is started, not recreated', (t) => {
  const created = vm([], [status('main', 'app', { kind: 'waiting', reason: 'ContainerCreating' })]);
  t.deepEqual(planPod(pod('Always'), created, 0).containers[0]?.action, {
    kind: 'start',
    id: 'main0',
  });
});

test('an ephemeral container runs once: created when absent, started when created, never restarted', (t) => {
  const debugPod: V1Pod = {
    ...pod('Always'),
    spec: { ...pod('Always').spec!, ephemeralContainers: [{ name: 'dbg', image: 'i' }] },
  };
  const running = status('main', 'app', { kind: 'running', startedAt: new Date(0) });
  const plan = (ephemeral: ContainerStatus[]) =>
    planPod(debugPod, { ...vm([], [running]), ephemeralContainers: ephemeral }, 100_000).containers.find(
      (c) => c.name === 'dbg',
    );
  t.deepEqual(plan([]), {
    name: 'dbg',
    role: 'ephemeral',
    action: { kind: 'run', attempt: 0, backoffFrom: 0 },
  });
  const created = {
    ...status('dbg', 'app', { kind: 'waiting', reason: 'ContainerCreating' }),
    role: 'ephemeral' as const,
  };
  t.deepEqual(plan([created])?.action, { kind: 'start', id: 'dbg0' });
  const ended = { ...status('dbg', 'app', exited(1, 1000)), role: 'ephemeral' as const };
  t.deepEqual(plan([ended])?.action, { kind: 'none' });
});
