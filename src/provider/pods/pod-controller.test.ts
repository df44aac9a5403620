// The pod controller over a fake pod source, an in-memory VCH and a fake clock: what reaches PodSync,
// when a failed key is retried, when it is given up, and that nothing is removed before the first list.
import test from 'ava';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { VicError } from '../../shared/errors.js';
import { FakeClock } from '../../shared/fake-clock.js';
import { silentLogger } from '../../shared/logger.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import { PodController, type PodSource } from './pod-controller.js';
import { FakeVch } from './testing/fake-vch.js';

class FakePodSource implements PodSource {
  synced = false;
  readonly pods = new Map<string, V1Pod>();
  constructor(readonly onChange: (key: string) => void) {}
  start = () => Promise.resolve();
  stop = () => undefined;
  get = (key: string) => this.pods.get(key);
  list = () => [...this.pods.values()];
  /** The informer's add event. */
  add(pod: V1Pod): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    this.pods.set(key, pod);
    this.onChange(key);
  }
}

function newPod(name: string): V1Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: { restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox:1' }] },
    status: { phase: 'Pending' },
  };
}

/** Lets every promise chain that is ready run (the controller's workers, PodSync's passes). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function harness(options: { maxRetries?: number } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const vch = new FakeVch(clock);
  const events: string[] = [];
  const core = {
    patchNamespacedPodStatus: ({ body }: { body: V1Pod }) => Promise.resolve(body),
    deleteNamespacedPod: () => Promise.resolve({}),
    listNamespacedService: () => Promise.resolve({ items: [] }),
  } as unknown as CoreV1Api;
  const recorder: EventRecorder = {
    record: (pod, { type, reason, message }) =>
      events.push(`${pod.metadata?.name} ${type} ${reason}: ${message}`),
  };
  let source: FakePodSource | undefined;
  let listFailure: Error | undefined;
  let lists = 0;
  const pods = {
    ...vch.pods,
    list: () => {
      lists += 1;
      return listFailure ? Promise.reject(listFailure) : vch.pods.list();
    },
  };
  const controller = new PodController({
    kubeConfig: {} as KubeConfig,
    core,
    vch: {
      pods,
      images: vch.images,
      watch: () => ({ stop: () => undefined }),
      streams: {
        exec: () => Promise.reject(new Error('no exec here')),
        logs: () => Promise.reject(new Error('no logs here')),
      },
    },
    nodeName: 'node',
    hostIP: '192.0.2.1',
    allocatable: () => ({ milliCpu: 4000, memoryBytes: 8e9, pods: 110 }),
    recorder,
    logger: silentLogger,
    clock,
    workers: 2,
    retry: { maxRetries: options.maxRetries ?? 3, backoff: { initialMs: 100, maxMs: 1000, jitter: 0 } },
    podSource: (onChange) => (source = new FakePodSource(onChange)),
  });
  const abort = new AbortController();
  const running = controller.run(abort.signal);
  return {
    clock,
    vch,
    events,
    source: source as FakePodSource,
    failLists: (err: Error | undefined) => (listFailure = err),
    /** Pod VM lists so far: one per sync attempt of a key, plus the resync's. */
    attempts: () => lists,
    async stop() {
      abort.abort();
      await running;
    },
  };
}

test('a pod that appears in the source is created on the VCH by the next worker', async (t) => {
  const h = harness();
  h.source.synced = true;
  h.source.add(newPod('web'));
  await settle();
  t.deepEqual(h.vch.calls, ['ensureSandbox', 'create main#0', 'start main#0']);
  await h.stop();
});

test('before the first list, a pod VM whose pod is not cached is kept; after it, the pod VM is removed', async (t) => {
  const h = harness();
  // A pod VM left from before a restart: its pod is gone from the API server.
  await h.vch.pods.ensureSandbox({ pod: { uid: 'uid-old', namespace: 'ns', name: 'old' } } as never);
  h.source.onChange('ns/old'); // a VCH event for the pod VM arrives before the first list
  h.clock.advance(5_000);
  await settle();
  t.false(
    h.vch.calls.some((c) => c.startsWith('remove')),
    'nothing is removed before the first list',
  );
  t.true(h.vch.containers.some((c) => c.uid === 'uid-old'));

  h.source.synced = true;
  h.clock.advance(500); // the deferred key comes back
  await settle();
  t.true(h.vch.calls.includes('remove uid-old'), `calls: ${h.vch.calls.join(', ')}`);
  await h.stop();
});

test('a failing key is retried on the back-off of the fake clock, then given up with a FailedSync event', async (t) => {
  const h = harness({ maxRetries: 3 });
  h.source.synced = true;
  h.failLists(new VicError('VchUnavailable', 'connect ECONNREFUSED'));
  h.source.add(newPod('web'));
  await settle();
  t.deepEqual(h.events, [], 'the first failure is retried, not reported');

  // Three retries after 100, 200 and 400 ms: nothing happens before each back-off runs out.
  h.clock.advance(99);
  await settle();
  const callsBefore = h.attempts();
  h.clock.advance(1);
  await settle();
  t.is(h.attempts(), callsBefore + 1, 'the first retry runs when its 100 ms are up');
  h.clock.advance(200);
  await settle();
  t.deepEqual(h.events, [], 'still retrying');
  h.clock.advance(400);
  await settle();
  t.is(h.attempts(), callsBefore + 3);
  t.is(h.events.length, 1, `events: ${h.events.join(' | ')}`);
  t.regex(
    h.events[0] ?? '',
    /^web Warning FailedSync: Error syncing pod, giving up until the pod changes \(it failed 4 times in a row\): connect ECONNREFUSED$/,
  );
  h.clock.advance(60_000);
  await settle();
  t.is(h.attempts(), callsBefore + 3, 'no retry after giving up');

  // Given up is not lost: a change to the pod tries again, and now the VCH answers.
  h.failLists(undefined);
  h.source.onChange('ns/web');
  await settle();
  t.deepEqual(h.vch.calls, ['ensureSandbox', 'create main#0', 'start main#0']);
  await h.stop();
});

test('an invalid request is given up at once, without retries', async (t) => {
  const h = harness({ maxRetries: 10 });
  h.source.synced = true;
  h.failLists(new VicError('Invalid', 'bad reference'));
  h.source.add(newPod('web'));
  await settle();
  t.is(h.events.length, 1);
  t.regex(h.events[0] ?? '', /trying again gives the same answer\): bad reference$/);
  h.clock.advance(60_000);
  await settle();
  t.is(h.events.length, 1, 'no retry after giving up');
  await h.stop();
});

test('a crash back-off requeues the key when the fake clock reaches it, not before', async (t) => {
  const h = harness();
  h.source.synced = true;
  h.source.add(newPod('web'));
  await settle();
  // Two quick crashes: the second restart waits 10 s (the kubelet's first back-off step).
  h.clock.advance(1000);
  h.vch.exit(h.vch.latest('uid-web', 'main')!, 1);
  h.source.onChange('ns/web');
  await settle();
  t.is(h.vch.latest('uid-web', 'main')?.attempt, 1);
  h.clock.advance(1000);
  h.vch.exit(h.vch.latest('uid-web', 'main')!, 1);
  h.source.onChange('ns/web');
  await settle();
  h.clock.advance(9_000);
  await settle();
  t.is(h.vch.latest('uid-web', 'main')?.attempt, 1, 'still backing off');
  h.clock.advance(1_000);
  await settle();
  t.is(h.vch.latest('uid-web', 'main')?.attempt, 2, 'restarted by the requeue alone, no pod change');
  await h.stop();
});
