// The event recorder on a fake clock: a repeat within ten minutes folds into a count, a later one is a
// new Event; every Event says it comes from the kubelet on this node.
import test from 'ava';
import type { CoreV1Api, CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { FakeClock } from '../../shared/fake-clock.js';
import { silentLogger } from '../../shared/logger.js';
import { KubeletEventRecorder } from './event-recorder.js';

const pod: V1Pod = { metadata: { namespace: 'ns', name: 'web', uid: 'u1' } };

function harness() {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const created: CoreV1Event[] = [];
  const patched: Array<{ name: string; body: { count: number; lastTimestamp: Date } }> = [];
  const api = {
    createNamespacedEvent: async ({ body }: { body: CoreV1Event }) => {
      created.push(body);
      return body;
    },
    patchNamespacedEvent: async (p: { name: string; body: { count: number; lastTimestamp: Date } }) => {
      patched.push(p);
      return {};
    },
  } as unknown as CoreV1Api;
  const recorder = new KubeletEventRecorder({ api, nodeName: 'vk', logger: silentLogger, clock });
  return { clock, created, patched, recorder };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('a repeat within ten minutes of clock time folds into a count; after that it is a new Event', async (t) => {
  const h = harness();
  h.recorder.record(pod, {
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off pulling image "x"',
    fieldPath: 'spec.containers{main}',
  });
  await settle();
  h.clock.advance(9 * 60_000);
  h.recorder.record(pod, {
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off pulling image "x"',
    fieldPath: 'spec.containers{main}',
  });
  await settle();
  t.is(h.created.length, 1);
  t.is(h.patched.length, 1);
  t.is(h.patched[0]?.body.count, 2);
  t.deepEqual(h.patched[0]?.body.lastTimestamp, new Date(h.clock.now()));

  h.clock.advance(10 * 60_000 + 1);
  h.recorder.record(pod, {
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off pulling image "x"',
    fieldPath: 'spec.containers{main}',
  });
  await settle();
  t.is(h.created.length, 2);
  t.deepEqual(h.created[1]?.firstTimestamp, new Date(h.clock.now()));
  t.like(h.created[1], {
    reason: 'BackOff',
    type: 'Warning',
    source: { component: 'kubelet', host: 'vk' },
    involvedObject: {
      kind: 'Pod',
      name: 'web',
      namespace: 'ns',
      uid: 'u1',
      fieldPath: 'spec.containers{main}',
    },
  });
});

test('a failure to write an event is logged and dropped, never thrown', async (t) => {
  const api = {
    createNamespacedEvent: async () => {
      throw new Error('forbidden');
    },
  } as unknown as CoreV1Api;
  const recorder = new KubeletEventRecorder({
    api,
    nodeName: 'vk',
    logger: silentLogger,
    clock: new FakeClock(),
  });
  t.notThrows(() => recorder.record(pod, { type: 'Normal', reason: 'Pulled', message: 'ok' }));
  await settle();
});

test('each event is one request: the three events of a container start are three creates, no read, no patch', async (t) => {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const calls: string[] = [];
  // Every method of the API counts, so a GET before a create or a patch of a fresh event would show.
  const api = new Proxy(
    {},
    {
      get: (_target, method: string) => (request: { body?: CoreV1Event }) => {
        calls.push(`${method} ${request.body?.reason ?? ''}`);
        return Promise.resolve(request.body ?? {});
      },
    },
  ) as unknown as CoreV1Api;
  const recorder = new KubeletEventRecorder({ api, nodeName: 'vk', logger: silentLogger, clock });
  const fieldPath = 'spec.containers{main}';
  recorder.record(pod, {
    type: 'Normal',
    reason: 'Pulled',
    message: 'Container image "x" already present on machine',
    fieldPath,
  });
  recorder.record(pod, { type: 'Normal', reason: 'Created', message: 'Created container: main', fieldPath });
  recorder.record(pod, { type: 'Normal', reason: 'Started', message: 'Started container main', fieldPath });
  await settle();
  t.deepEqual(calls, [
    'createNamespacedEvent Pulled',
    'createNamespacedEvent Created',
    'createNamespacedEvent Started',
  ]);
});
