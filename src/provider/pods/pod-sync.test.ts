// PodSync over an in-memory VCH and API server, against a fake clock: each pass's VCH calls, status
// and events, through creation, crash back-off, deadline and deletion.
import test from 'ava';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { FakeClock } from '../../shared/fake-clock.js';
import { silentLogger } from '../../shared/logger.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import type { ClaimResolution, PodClaims } from '../storage/claim-volumes.js';
import { PodSync, type PodSyncOptions } from './pod-sync.js';
import { FakeVch } from './testing/fake-vch.js';

interface Harness {
  options: PodSyncOptions;
  clock: FakeClock;
  vch: FakeVch;
  sync: PodSync;
  pod: V1Pod;
  events: string[];
  deleted: string[];
  pass(): Promise<number | undefined>;
}

function harness(spec: Partial<V1Pod['spec']> = {}, meta: Partial<V1Pod['metadata']> = {}): Harness {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const vch = new FakeVch(clock);
  const events: string[] = [];
  const deleted: string[] = [];
  const pod: V1Pod = {
    metadata: { name: 'web', namespace: 'ns', uid: 'u1', ...meta },
    spec: { restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox:1' }], ...spec },
    status: { phase: 'Pending' },
  };
  const core = {
    patchNamespacedPodStatus: ({ body }: { body: { status: V1Pod['status'] } }) => {
      // The API server's merge, as far as these tests look: the fields written replace the old ones.
      pod.status = JSON.parse(JSON.stringify({ ...pod.status, ...body.status })) as V1Pod['status'];
      return Promise.resolve(pod);
    },
    deleteNamespacedPod: ({ name }: { name: string }) => {
      deleted.push(name);
      return Promise.resolve(pod);
    },
    // Service link variables: no services in the fake cluster.
    listNamespacedService: () => Promise.resolve({ items: [] }),
  } as unknown as CoreV1Api;
  const recorder: EventRecorder = {
    record: (_pod, { type, reason, message }) => events.push(`${type} ${reason}: ${message}`),
  };
  const options: PodSyncOptions = {
    core,
    pods: vch.pods,
    images: vch.images,
    nodeName: 'node',
    hostIP: '192.0.2.1',
    allocatable: () => ({ milliCpu: 4000, memoryBytes: 8e9, pods: 110 }),
    recorder,
    clock,
    logger: silentLogger,
  };
  const sync = new PodSync(options);
  return {
    options,
    clock,
    vch,
    sync,
    pod,
    events,
    deleted,
    async pass() {
      const vms = (await vch.pods.list()).filter((v) => v.pod.name === 'web');
      return (await sync.sync('ns/web', pod, vms, () => [pod])).requeueAfterMs;
    },
  };
}

const state = (pod: V1Pod) => pod.status?.containerStatuses?.[0]?.state;

test("a new sandbox is started in the move that created it, with no read of the pod VM between (as the kubelet's RunPodSandbox)", async (t) => {
  const h = harness();
  h.vch.sandboxStartsCreated = true;
  h.vch.logStatusReads = true;
  await h.pass();
  t.deepEqual(h.vch.calls, [
    'ensureSandbox',
    'start POD#0',
    'status',
    'create main#0',
    'start main#0',
    'status',
  ]);
  t.is(h.pod.status?.phase, 'Running');
});

test('a new pod: admitted, sandbox then container created and started, Running and Ready in one pass', async (t) => {
  const h = harness();
  await h.pass();
  t.deepEqual(h.vch.calls, ['ensureSandbox', 'create main#0', 'start main#0']);
  t.is(h.pod.status?.phase, 'Running');
  t.is(h.pod.status?.containerStatuses?.[0]?.ready, true);
  t.regex(h.pod.status?.containerStatuses?.[0]?.containerID ?? '', /^docker:\/\/c\d+$/);
  t.true(h.sync.isAdmitted('u1'));
  t.deepEqual(
    h.events.filter((e) => e.startsWith('Normal Created') || e.startsWith('Normal Started')),
    ['Normal Created: Created container: main', 'Normal Started: Started container main'],
  );
});

test('crashes restart at once, then wait 10 s, then 20 s of the fake clock', async (t) => {
  const h = harness();
  await h.pass();
  h.clock.advance(1000);
  h.vch.exit(h.vch.latest('u1', 'main')!, 1);
  t.is(await h.pass(), undefined);
  t.is(h.vch.latest('u1', 'main')?.attempt, 1, 'the first restart is immediate');

  h.clock.advance(1000);
  h.vch.exit(h.vch.latest('u1', 'main')!, 1);
  t.is(await h.pass(), 10_000);
  t.is(state(h.pod)?.waiting?.reason, 'CrashLoopBackOff');
  t.true(h.events.some((e) => e.startsWith('Warning BackOff: Back-off restarting failed container main')));
  h.clock.advance(9_999);
  await h.pass();
  t.is(h.vch.latest('u1', 'main')?.attempt, 1, 'not before the back-off ran out');
  h.clock.advance(1);
  await h.pass();
  t.is(h.vch.latest('u1', 'main')?.attempt, 2);

  h.clock.advance(1000);
  h.vch.exit(h.vch.latest('u1', 'main')!, 1);
  t.is(await h.pass(), 20_000);
});

test('a container that ran 10 min restarts at once and starts a new back-off series', async (t) => {
  const h = harness();
  await h.pass();
  for (let i = 0; i < 3; i++) {
    h.clock.advance(1000);
    h.vch.exit(h.vch.latest('u1', 'main')!, 1);
    h.clock.advance(300_000);
    await h.pass();
  }
  t.is(h.vch.latest('u1', 'main')?.attempt, 3);
  h.clock.advance(600_000);
  h.vch.exit(h.vch.latest('u1', 'main')!, 1);
  t.is(await h.pass(), undefined, 'restarted at once after a long run');
  t.is(h.vch.latest('u1', 'main')?.attempt, 4);
  h.clock.advance(1000);
  h.vch.exit(h.vch.latest('u1', 'main')!, 1);
  t.is(await h.pass(), 10_000, 'the next quick crash waits 10 s, not 40 s');
});

test('activeDeadlineSeconds: Failed with DeadlineExceeded, then the containers stop within the grace period', async (t) => {
  const h = harness({ activeDeadlineSeconds: 30, terminationGracePeriodSeconds: 7 });
  t.is(await h.pass(), 30_000);
  h.clock.advance(30_000);
  await h.pass();
  t.like(h.pod.status, { phase: 'Failed', reason: 'DeadlineExceeded' });
  t.true(
    h.events.includes(
      'Warning DeadlineExceeded: Pod was active on the node longer than the specified deadline',
    ),
  );
  await h.pass();
  t.deepEqual(h.vch.latest('u1', 'main')?.stops, [7]);
  t.is(h.pod.status?.phase, 'Failed', 'the stop does not change the phase');
  t.is(state(h.pod)?.terminated?.exitCode, 137);
});

test('deletion: Killing events, stop within the deletion grace period, remove, then the pod object goes', async (t) => {
  const h = harness();
  await h.pass();
  h.pod.metadata = {
    ...h.pod.metadata,
    deletionTimestamp: new Date(h.clock.now()),
    deletionGracePeriodSeconds: 5,
  };
  await h.pass();
  t.true(h.events.includes('Normal Killing: Stopping container main'));
  t.deepEqual(h.vch.calls.slice(-3), ['stop main#0 grace=5', 'stop POD#0 grace=5', 'remove u1']);
  t.deepEqual(h.deleted, ['web']);
  t.false(h.sync.isAdmitted('u1'));
});

test('a pod the node cannot run is rejected without touching the VCH', async (t) => {
  const h = harness({ hostNetwork: true });
  await h.pass();
  t.deepEqual(h.vch.calls, []);
  t.like(h.pod.status, { phase: 'Failed', reason: 'UnsupportedPodSpec' });
});

test('a terminated container’s message comes from its terminationMessagePath, read once from the VCH', async (t) => {
  const h = harness({
    restartPolicy: 'Never',
    containers: [{ name: 'main', image: 'busybox:1', terminationMessagePath: '/tmp/msg' }],
  });
  await h.pass();
  const main = h.vch.latest('u1', 'main')!;
  h.vch.files.set(`${main.id}:/tmp/msg`, 'all done\n');
  h.clock.advance(1000);
  h.vch.exit(main, 0);
  await h.pass();
  t.is(h.pod.status?.phase, 'Succeeded');
  t.like(state(h.pod)?.terminated, { exitCode: 0, reason: 'Completed', message: 'all done\n' });
});

test('a pod whose claim is not ready waits before its sandbox with the kubelet event, then runs on it', async (t) => {
  const h = harness({ volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'www' } }] });
  let resolution: ClaimResolution = {
    ok: false,
    message: 'unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: not bound',
  };
  const claims: PodClaims = {
    resolve: () => resolution,
    reserve: () => Promise.resolve({ ok: true }),
    release: () => undefined,
  };
  const sync = new PodSync({ ...h.options, claims });
  const pass = async () =>
    sync.sync(
      'ns/web',
      h.pod,
      (await h.vch.pods.list()).filter((v) => v.pod.name === 'web'),
      () => [h.pod],
    );
  const first = await pass();
  t.deepEqual(h.vch.calls, [], 'no sandbox before the claim is ready');
  t.true(
    h.events.some((e) => e.startsWith('Warning FailedMount: Unable to attach or mount volumes: unmounted')),
  );
  // It waits (a retry is due): written at once, not held for a successor (status-writer.ts).
  t.is(h.pod.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
  t.true((first.requeueAfterMs ?? Infinity) <= 5000, 'it looks again soon');
  resolution = { ok: true, sources: new Map([['data', 'pvc-1']]), exclusive: new Map() };
  await pass();
  t.deepEqual(h.vch.calls, ['ensureSandbox', 'create main#0', 'start main#0']);
  t.is(h.pod.status?.phase, 'Running');
});
