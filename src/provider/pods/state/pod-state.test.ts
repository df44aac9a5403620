// Each declared move of the pod state graph, once, decided against a fake clock.
import test, { type ExecutionContext } from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { FakeClock } from '../../../shared/fake-clock.js';
import type { ContainerState, ContainerStatus, PodVm, PodVmStatus } from '../../../vch/types.js';
import type { HealthOf } from './container-plan.js';
import {
  decide,
  isDeclared,
  podMoves,
  type PodDecision,
  type PodInputs,
  type PodStateKind,
} from './pod-state.js';

const clock = new FakeClock(1_000_000);
const identity = { namespace: 'ns', name: 'p', uid: 'u' };

interface PodShape {
  restartPolicy?: string;
  inits?: string[];
  sidecars?: string[];
  recorded?: PodStateKind;
  activeDeadlineSeconds?: number;
  startedMsAgo?: number;
  deleted?: boolean;
}

function pod(shape: PodShape = {}): V1Pod {
  const recorded = shape.recorded ?? 'preparing';
  const cond = (type: string, on: boolean) => ({ type, status: on ? 'True' : 'False' });
  return {
    metadata: {
      ...identity,
      ...(shape.deleted ? { deletionTimestamp: new Date(clock.now()), deletionGracePeriodSeconds: 5 } : {}),
    },
    spec: {
      restartPolicy: shape.restartPolicy ?? 'Always',
      ...(shape.activeDeadlineSeconds !== undefined
        ? { activeDeadlineSeconds: shape.activeDeadlineSeconds }
        : {}),
      initContainers: [
        ...(shape.sidecars ?? []).map((name) => ({ name, image: 'i', restartPolicy: 'Always' })),
        ...(shape.inits ?? []).map((name) => ({ name, image: 'i' })),
      ],
      containers: [{ name: 'main', image: 'i' }],
    },
    status: {
      ...(recorded === 'terminated' ? { phase: 'Succeeded' } : { phase: 'Pending' }),
      startTime: new Date(clock.now() - (shape.startedMsAgo ?? 1000)),
      conditions: [
        cond('PodReadyToStartContainers', recorded === 'initializing' || recorded === 'running'),
        cond('Initialized', recorded === 'running'),
      ],
    },
  };
}

const runningState: ContainerState = { kind: 'running', startedAt: new Date(clock.now() - 5000) };
const exited = (exitCode: number): ContainerState => ({
  kind: 'terminated',
  exitCode,
  reason: exitCode ? 'Error' : 'Completed',
  startedAt: new Date(clock.now() - 5000),
  finishedAt: new Date(clock.now() - 4000),
});

function c(name: string, role: 'sandbox' | 'init' | 'app', state: ContainerState): ContainerStatus {
  return {
    name,
    role,
    attempt: 0,
    id: `${name}-id`,
    image: 'i',
    imageId: 'sha256:x',
    state,
    restartCount: 0,
  };
}

function status(parts: {
  sandbox?: ContainerState;
  inits?: ContainerStatus[];
  apps?: ContainerStatus[];
}): PodVmStatus {
  return {
    pod: identity,
    nodeName: 'n',
    ...(parts.sandbox ? { sandbox: c('POD', 'sandbox', parts.sandbox) } : {}),
    initContainers: parts.inits ?? [],
    containers: parts.apps ?? [],
  };
}

const listed = (running: boolean): PodVm => ({
  pod: identity,
  nodeName: 'n',
  members: [
    {
      id: 'main-id',
      dockerName: 'k8s_main',
      name: 'main',
      role: 'app',
      attempt: 0,
      index: 0,
      image: 'i',
      state: running ? 'running' : 'exited',
      createdAt: new Date(0),
    },
  ],
});

function inputs(p: V1Pod, extra: Partial<PodInputs> = {}): PodInputs {
  return {
    pod: p,
    vm: undefined,
    admitted: true,
    admission: () => ({ admitted: true }),
    health: () => undefined,
    nowMs: clock.now(),
    ...extra,
  };
}

const seen = new Set<string>();
function expectMove(t: ExecutionContext, d: PodDecision, from: PodStateKind, to: PodStateKind) {
  const move: { from: PodStateKind; to: PodStateKind } = d;
  t.is(move.from, from);
  t.is(move.to, to);
  t.true(isDeclared(move), `${from} -> ${to} is declared`);
  seen.add(`${from}->${to}`);
}
const stepKinds = (d: PodDecision) => d.steps.map((s) => s.kind);

test('admitting -> preparing: an admitted pod', (t) => {
  const d = decide(inputs(pod(), { admitted: false }));
  expectMove(t, d, 'admitting', 'preparing');
  t.deepEqual(stepKinds(d), ['admit']);
});

test('admitting -> terminated: a rejected pod, with the admission reason', (t) => {
  const d = decide(
    inputs(pod(), {
      admitted: false,
      admission: () => ({
        admitted: false,
        reason: 'UnsupportedPodSpec',
        message: 'spec.hostNetwork is not supported',
      }),
    }),
  );
  expectMove(t, d, 'admitting', 'terminated');
  t.deepEqual(d.steps, [
    { kind: 'reject', reason: 'UnsupportedPodSpec', message: 'spec.hostNetwork is not supported' },
  ]);
});

test('preparing -> preparing: no sandbox yet, so volumes then the sandbox', (t) => {
  const d = decide(inputs(pod(), { status: undefined }));
  expectMove(t, d, 'preparing', 'preparing');
  t.deepEqual(stepKinds(d), ['prepareVolumes', 'ensureSandbox']);
});

test('preparing -> initializing: the sandbox runs, the first init container is run', (t) => {
  const d = decide(inputs(pod({ inits: ['setup'] }), { status: status({ sandbox: runningState }) }));
  expectMove(t, d, 'preparing', 'initializing');
  t.deepEqual(d.steps, [
    {
      kind: 'containers',
      plan: [{ name: 'setup', role: 'init', action: { kind: 'run', attempt: 0, backoffFrom: 0 } }],
    },
  ]);
});

test('preparing -> running: the sandbox runs and there is no init container', (t) => {
  const d = decide(inputs(pod(), { status: status({ sandbox: runningState }) }));
  expectMove(t, d, 'preparing', 'running');
  t.is(d.plan?.containers[0]?.action.kind, 'run');
});

test('preparing -> terminated: activeDeadlineSeconds ran out before the sandbox came up', (t) => {
  const d = decide(inputs(pod({ activeDeadlineSeconds: 5, startedMsAgo: 6000 }), { status: undefined }));
  expectMove(t, d, 'preparing', 'terminated');
  t.deepEqual(stepKinds(d), ['failPod']);
});

test('initializing -> initializing: the next init container waits for a sidecar to start', (t) => {
  const p = pod({ recorded: 'initializing', sidecars: ['proxy'], inits: ['setup'] });
  const health: HealthOf = (id) => (id === 'proxy-id' ? { started: false } : undefined);
  const d = decide(
    inputs(p, {
      status: status({ sandbox: runningState, inits: [c('proxy', 'init', runningState)] }),
      health,
    }),
  );
  expectMove(t, d, 'initializing', 'initializing');
  t.deepEqual(
    d.plan?.containers.map((x) => x.name),
    ['proxy'],
  );
});

test('initializing -> running: the last init container completed', (t) => {
  const p = pod({ recorded: 'initializing', inits: ['setup'] });
  const d = decide(
    inputs(p, { status: status({ sandbox: runningState, inits: [c('setup', 'init', exited(0))] }) }),
  );
  expectMove(t, d, 'initializing', 'running');
});

test('initializing -> preparing: the sandbox was lost during init', (t) => {
  const p = pod({ recorded: 'initializing', inits: ['setup'] });
  const d = decide(inputs(p, { status: status({ sandbox: exited(137) }) }));
  expectMove(t, d, 'initializing', 'preparing');
  t.deepEqual(d.steps, [{ kind: 'prepareVolumes' }, { kind: 'startSandbox', id: 'POD-id' }]);
});

test('initializing -> terminated: an init container failed under restartPolicy Never', (t) => {
  const p = pod({ recorded: 'initializing', inits: ['setup'], restartPolicy: 'Never' });
  const d = decide(
    inputs(p, { status: status({ sandbox: runningState, inits: [c('setup', 'init', exited(1))] }) }),
  );
  expectMove(t, d, 'initializing', 'terminated');
  t.true(d.plan?.initFailed);
});

test('running -> running: a failed liveness probe kills the container, to be restarted', (t) => {
  const health: HealthOf = () => ({
    failed: { probe: 'liveness', message: 'HTTP probe failed with statuscode: 500' },
  });
  const d = decide(
    inputs(pod({ recorded: 'running' }), {
      status: status({ sandbox: runningState, apps: [c('main', 'app', runningState)] }),
      health,
    }),
  );
  expectMove(t, d, 'running', 'running');
  t.deepEqual(d.plan?.containers[0]?.action, {
    kind: 'kill',
    id: 'main-id',
    reason: 'liveness',
    message: 'HTTP probe failed with statuscode: 500',
  });
});

test('running -> preparing: the sandbox stopped under a running pod', (t) => {
  const d = decide(
    inputs(pod({ recorded: 'running' }), {
      status: status({ sandbox: exited(0), apps: [c('main', 'app', exited(137))] }),
    }),
  );
  expectMove(t, d, 'running', 'preparing');
});

test('running -> initializing: the pod VM was rebuilt, so its init containers run again', (t) => {
  const d = decide(
    inputs(pod({ recorded: 'running', inits: ['setup'] }), { status: status({ sandbox: runningState }) }),
  );
  expectMove(t, d, 'running', 'initializing');
  t.deepEqual(
    d.plan?.containers.map((x) => `${x.name}:${x.action.kind}`),
    ['setup:run'],
  );
});

test('running -> terminated: the app ended for good, and the sidecar is stopped after it', (t) => {
  const p = pod({ recorded: 'running', restartPolicy: 'Never', sidecars: ['proxy'] });
  const d = decide(
    inputs(p, {
      status: status({
        sandbox: runningState,
        inits: [c('proxy', 'init', runningState)],
        apps: [c('main', 'app', exited(0))],
      }),
    }),
  );
  expectMove(t, d, 'running', 'terminated');
  t.deepEqual(d.plan?.containers.find((x) => x.name === 'proxy')?.action, {
    kind: 'kill',
    id: 'proxy-id',
    reason: 'podCompleted',
  });
});

test('running: activeDeadlineSeconds fails the pod once it runs out, and is waited for until then', (t) => {
  const p = (ago: number) => pod({ recorded: 'running', activeDeadlineSeconds: 60, startedMsAgo: ago });
  const vm = status({ sandbox: runningState, apps: [c('main', 'app', runningState)] });
  const before = decide(inputs(p(50_000), { status: vm }));
  t.is(before.to, 'running');
  t.is(before.requeueAfterMs, 10_000);
  const after = decide(inputs(p(60_000), { status: vm }));
  expectMove(t, after, 'running', 'terminated');
  t.deepEqual(after.steps, [
    {
      kind: 'failPod',
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    },
  ]);
});

test('terminating -> terminated: a deleted pod stops within its deletion grace, then its object goes', (t) => {
  const d = decide(inputs(pod({ recorded: 'running', deleted: true }), { vm: listed(true) }));
  expectMove(t, d, 'terminating', 'terminated');
  t.deepEqual(d.steps, [{ kind: 'terminate', graceSeconds: 5 }, { kind: 'deletePodObject' }]);
  const gone = decide(inputs(pod({ deleted: true }), { vm: undefined }));
  t.deepEqual(stepKinds(gone), ['deletePodObject']);
});

test('terminated -> terminated: a finished pod with something still running has it stopped', (t) => {
  const d = decide(inputs(pod({ recorded: 'terminated' }), { vm: listed(true) }));
  expectMove(t, d, 'terminated', 'terminated');
  t.deepEqual(stepKinds(d), ['stopLeftovers']);
  t.deepEqual(stepKinds(decide(inputs(pod({ recorded: 'terminated' }), { vm: listed(false) }))), []);
});

test.after('every declared move was exercised', (t) => {
  const declared = Object.entries(podMoves).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`));
  t.deepEqual(
    declared.filter((m) => !seen.has(m)),
    [],
  );
});

test('an undeclared move is reported as such', (t) => {
  t.false(isDeclared({ from: 'terminated', to: 'running' }));
  t.false(isDeclared({ from: 'running', to: 'admitting' }));
});
