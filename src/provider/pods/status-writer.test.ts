// StatusWriter against a fake API server and a fake clock: no write when the API server already holds
// the status, none again while the informer lags behind our own patch, and a pod on its way to
// Running written once.
import test from 'ava';
import type { CoreV1Api, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { FakeClock } from '../../shared/fake-clock.js';
import { VicError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { defaultHoldMs, StatusWriter } from './status-writer.js';

interface Harness {
  writer: StatusWriter;
  clock: FakeClock;
  /** The API server's pod. */
  server: V1Pod;
  patches: V1PodStatus[];
  failed: string[];
  failNext: () => void;
}

function harness(): Harness {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const server: V1Pod = {
    metadata: { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '10' },
    status: { phase: 'Pending' },
  };
  const patches: V1PodStatus[] = [];
  const failed: string[] = [];
  let fail = false;
  const core = {
    patchNamespacedPodStatus: ({ body }: { body: { status: V1PodStatus } }) => {
      if (fail) {
        fail = false;
        return Promise.reject(new VicError('VchUnavailable', 'the API server did not answer'));
      }
      patches.push(body.status);
      server.status = JSON.parse(JSON.stringify({ ...server.status, ...body.status })) as V1PodStatus;
      server.metadata!.resourceVersion = String(Number(server.metadata!.resourceVersion) + 1);
      return Promise.resolve(JSON.parse(JSON.stringify(server)) as V1Pod);
    },
  } as unknown as CoreV1Api;
  const writer = new StatusWriter({
    core,
    clock,
    logger: silentLogger,
    onWriteFailed: (key) => failed.push(key),
  });
  return { writer, clock, server, patches, failed, failNext: () => (fail = true) };
}

/** The informer's copy of the pod: what the API server held at some moment. */
const copy = (pod: V1Pod): V1Pod => JSON.parse(JSON.stringify(pod)) as V1Pod;

const running: V1PodStatus = {
  phase: 'Running',
  podIP: '10.0.0.2',
  containerStatuses: [
    {
      name: 'main',
      image: 'pause',
      imageID: '',
      ready: true,
      restartCount: 0,
      state: { running: { startedAt: new Date('2026-01-01T00:00:01.250Z') } },
      lastState: {},
    },
  ],
};

const creating: V1PodStatus = {
  phase: 'Pending',
  containerStatuses: [
    {
      name: 'main',
      image: 'pause',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    },
  ],
};

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a status the API server already holds is not written, empty lastState and sub-second times alike', async (t) => {
  const h = harness();
  // The API server omits the empty lastState and keeps seconds only.
  h.server.status = {
    phase: 'Running',
    podIP: '10.0.0.2',
    containerStatuses: [
      {
        name: 'main',
        image: 'pause',
        imageID: '',
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: new Date('2026-01-01T00:00:01Z') } },
      },
    ],
  };
  const wrote = await h.writer.write({ pod: copy(h.server), status: running, body: { ...running } });
  t.false(wrote);
  t.deepEqual(h.patches, []);
});

test('a changed status is written once, and not again while the informer still shows the older copy', async (t) => {
  const h = harness();
  const stale = copy(h.server);
  t.true(await h.writer.write({ pod: stale, status: running, body: { ...running } }));
  t.is(h.patches.length, 1);
  // The next pass runs before the informer has seen the patch: same status, no second patch.
  t.false(await h.writer.write({ pod: stale, status: running, body: { ...running } }));
  t.is(h.patches.length, 1);
  t.is(h.writer.freshest(stale).status?.phase, 'Running', 'the pass builds on what the patch answered');
  // The informer catches up: its copy is the truth again, and still nothing to write.
  const fresh = copy(h.server);
  t.is(h.writer.freshest(fresh), fresh);
  t.false(await h.writer.write({ pod: fresh, status: running, body: { ...running } }));
  t.is(h.patches.length, 1);
});

test('a change made by someone else after our patch is seen through the informer, and written over', async (t) => {
  const h = harness();
  await h.writer.write({ pod: copy(h.server), status: running, body: { ...running } });
  // Another writer sets the phase back (a newer resourceVersion than our patch's answer).
  h.server.status = { ...h.server.status, phase: 'Unknown' };
  h.server.metadata!.resourceVersion = '99';
  t.true(await h.writer.write({ pod: copy(h.server), status: running, body: { ...running } }));
  t.is(h.patches.length, 2);
  t.is(h.server.status.phase, 'Running');
});

test('ContainerCreating then Running within the hold: one write, of Running', async (t) => {
  const h = harness();
  const pod = copy(h.server);
  t.true(await h.writer.write({ pod, status: creating, body: { ...creating } }));
  t.deepEqual(h.patches, [], 'held');
  t.true(h.writer.holding('u1'));
  h.clock.advance(defaultHoldMs - 1);
  await tick();
  t.deepEqual(h.patches, [], 'still held');
  t.true(await h.writer.write({ pod, status: running, body: { ...running } }));
  t.is(h.patches.length, 1);
  t.is(h.patches[0]?.phase, 'Running');
  t.false(h.writer.holding('u1'));
  h.clock.advance(defaultHoldMs);
  await tick();
  t.is(h.patches.length, 1, 'the held status is not written after the newer one');
});

test('a pod that stays ContainerCreating is written when the hold runs out, not later', async (t) => {
  const h = harness();
  await h.writer.write({ pod: copy(h.server), status: creating, body: { ...creating } });
  // A second pass with the same transitional status keeps the first deadline.
  h.clock.advance(100);
  await h.writer.write({ pod: copy(h.server), status: creating, body: { ...creating } });
  h.clock.advance(defaultHoldMs - 100);
  await tick();
  t.is(h.patches.length, 1);
  t.is(h.server.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
});

test('a held status that cannot be written asks for another pass', async (t) => {
  const h = harness();
  await h.writer.write({ pod: copy(h.server), status: creating, body: { ...creating } });
  h.failNext();
  h.clock.advance(defaultHoldMs);
  await tick();
  t.deepEqual(h.patches, []);
  t.deepEqual(h.failed, ['ns/web']);
});

test('a held status of a pod that is forgotten (deleted) is never written', async (t) => {
  const h = harness();
  await h.writer.write({ pod: copy(h.server), status: creating, body: { ...creating } });
  h.writer.forget('u1');
  h.clock.advance(defaultHoldMs);
  await tick();
  t.deepEqual(h.patches, []);
});

test('a terminated container is written at once: status latency is not held', async (t) => {
  const h = harness();
  const exited: V1PodStatus = {
    phase: 'Failed',
    containerStatuses: [
      {
        name: 'main',
        image: 'pause',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 1, reason: 'Error' } },
      },
    ],
  };
  t.true(await h.writer.write({ pod: copy(h.server), status: exited, body: { ...exited } }));
  t.is(h.patches.length, 1);
});

test('a held status flushed just before Running reaches the API server first, never after', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const server: V1Pod = { metadata: { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '1' } };
  const arrived: string[] = [];
  const gates: Array<() => void> = [];
  const core = {
    patchNamespacedPodStatus: ({ body }: { body: { status: V1PodStatus } }) =>
      new Promise<V1Pod>((resolve) => {
        // The first patch is slow on the wire; the second would overtake it without ordering.
        const land = () => {
          arrived.push(body.status.phase ?? '');
          server.status = body.status;
          resolve(JSON.parse(JSON.stringify(server)) as V1Pod);
        };
        if (arrived.length === 0 && gates.length === 0) gates.push(land);
        else land();
      }),
  } as unknown as CoreV1Api;
  const writer = new StatusWriter({ core, clock, logger: silentLogger });
  await writer.write({ pod: copy(server), status: creating, body: { ...creating } });
  clock.advance(defaultHoldMs); // the held ContainerCreating goes out, and hangs
  await tick();
  const runningWrite = writer.write({ pod: copy(server), status: running, body: { ...running } });
  await tick();
  t.deepEqual(arrived, [], 'Running waits for the patch in flight');
  gates[0]!();
  await runningWrite;
  t.deepEqual(arrived, ['Pending', 'Running']);
  t.is(server.status?.phase, 'Running');
});

test('a pod that waits for something (mayHold false) is written ContainerCreating at once', async (t) => {
  const h = harness();
  t.true(
    await h.writer.write({ pod: copy(h.server), status: creating, body: { ...creating }, mayHold: false }),
  );
  t.is(h.patches.length, 1);
  t.false(h.writer.holding('u1'));
});
