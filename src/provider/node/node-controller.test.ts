// The node controller on a fake clock, against fakes of the API server and the VCH: the Lease is
// renewed every 10 s of clock time, the status follows the VCH, and the kubeletVersion follows the
// API server's version.
import test from 'ava';
import {
  ApiException,
  type CoordinationV1Api,
  type CoreV1Api,
  type V1Lease,
  type V1Node,
  type V1NodeStatus,
} from '@kubernetes/client-node';
import { FakeClock } from '../../shared/fake-clock.js';
import { silentLogger } from '../../shared/logger.js';
import { NodeController } from './node-controller.js';
import { testNodeConfig } from './testing.js';
import type { HostFacts, NodeConfig, VchHealth } from './types.js';

const config: NodeConfig = { ...testNodeConfig, labels: {}, taint: null };

const facts: HostFacts = {
  cpus: 2,
  memoryBytes: 4 * 2 ** 30,
  storageBytes: 100 * 2 ** 30,
  storageAvailableBytes: 60 * 2 ** 30,
  operatingSystem: 'Debian',
  osType: 'linux',
  kernelVersion: '6.1',
  architecture: 'amd64',
  engineName: 'docker',
  engineVersion: '20.10',
  machineId: 'engine-id',
  systemUuid: '',
  bootId: 'boot-1',
};

/** Lets every pending promise chain run (the controller awaits fakes that answer at once). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function harness(options: { apiServer?: string; facts?: () => HostFacts } = {}) {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const renewals: number[] = [];
  const statuses: V1NodeStatus[] = [];
  const nodePatches: unknown[] = [];
  let health: VchHealth = { reachable: true };
  const core = {
    createNode: async ({ body }: { body: V1Node }) => ({
      ...body,
      metadata: { ...body.metadata, uid: 'u1' },
    }),
    patchNode: async ({ body }: { body: unknown }) => {
      nodePatches.push(body);
      return body;
    },
    patchNodeStatus: async ({ body }: { body: { status: V1NodeStatus } }) => {
      statuses.push(body.status);
      return { status: body.status };
    },
  } as unknown as CoreV1Api;
  let lease: V1Lease | undefined;
  const coordination = {
    readNamespacedLease: async () => {
      if (!lease) throw new ApiException(404, 'not found', '{"message":"not found"}', {});
      return lease;
    },
    createNamespacedLease: async ({ body }: { body: V1Lease }) => {
      renewals.push(clock.now());
      return (lease = body);
    },
    replaceNamespacedLease: async ({ body }: { body: V1Lease }) => {
      renewals.push(clock.now());
      return (lease = body);
    },
  } as unknown as CoordinationV1Api;
  const controller = new NodeController({
    core,
    coordination,
    host: { hostFacts: async () => (options.facts ?? (() => facts))(), checkHealth: async () => health },
    config,
    logger: silentLogger,
    clock,
    resolves: async () => false,
    ...(options.apiServer
      ? { version: { getCode: async () => ({ gitVersion: options.apiServer }) } as never }
      : {}),
  });
  const abort = new AbortController();
  return {
    clock,
    controller,
    renewals,
    statuses,
    nodePatches,
    setHealth: (h: VchHealth) => (health = h),
    /** Runs the controller until it is ready and idle; resolves to its stop. */
    async start(): Promise<() => Promise<void>> {
      const running = controller.run(abort.signal);
      await controller.ready();
      await settle();
      return async () => {
        abort.abort();
        await running;
      };
    },
  };
}

const condition = (status: V1NodeStatus | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type);

test('the Lease is renewed every 10 s of clock time, and not in between', async (t) => {
  const h = harness();
  const stop = await h.start();
  t.is(h.renewals.length, 1);
  h.clock.advance(9_999);
  await settle();
  t.is(h.renewals.length, 1, 'nothing before 10 s');
  for (let i = 0; i < 3; i++) {
    h.clock.advance(i === 0 ? 1 : 10_000);
    await settle();
  }
  t.deepEqual(
    h.renewals.map((at) => at - h.renewals[0]!),
    [0, 10_000, 20_000, 30_000],
  );
  await stop();
});

test('with the VCH unreachable Ready turns False and every pressure condition Unknown', async (t) => {
  const h = harness();
  const stop = await h.start();
  const first = h.statuses.at(-1);
  t.like(condition(first, 'DiskPressure'), { status: 'False' });
  t.like(condition(first, 'MemoryPressure'), { status: 'Unknown' });

  h.setHealth({ reachable: false, reason: 'connect ECONNREFUSED' });
  h.clock.advance(5_000);
  await settle();
  const down = h.statuses.at(-1);
  t.not(down, first);
  for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    t.like(condition(down, type), {
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'VCH is unreachable: connect ECONNREFUSED',
    });
  }
  t.like(condition(down, 'Ready'), { status: 'False', reason: 'KubeletNotReady' });
  t.deepEqual(condition(down, 'Ready')?.lastTransitionTime, new Date(h.clock.now()));
  await stop();
});

test('a status is posted at least once a minute even when nothing changes', async (t) => {
  const h = harness();
  const stop = await h.start();
  const before = h.statuses.length;
  for (let i = 0; i < 11; i++) {
    h.clock.advance(5_000);
    await settle();
  }
  t.is(h.statuses.length, before, 'nothing changed within 55 s');
  h.clock.advance(5_000);
  await settle();
  t.is(h.statuses.length, before + 1);
  await stop();
});

test('the reported kubeletVersion never claims a newer minor than the API server', async (t) => {
  const h = harness({ apiServer: 'v1.33.4' });
  const stop = await h.start();
  t.is(h.statuses[0]?.nodeInfo?.kubeletVersion, 'v1.33.0-vic.0.1.0');
  t.is(h.statuses[0]?.capacity?.['ephemeral-storage'], '100Gi');
  await stop();
});

test('when the VCH is read again with other abilities, the Node’s labels and annotation are patched to match', async (t) => {
  let vch: HostFacts['vch'] = { product: 'vic', layout: 'vm-per-pod', abilities: { events: true } };
  const h = harness({ facts: () => ({ ...facts, vch }) });
  const stop = await h.start();
  h.clock.advance(5_000);
  await settle();
  t.deepEqual(h.nodePatches, [], 'the same reading: nothing to patch');
  vch = { product: 'vic', layout: 'vm-per-pod', abilities: { events: false } };
  h.clock.advance(5_000);
  await settle();
  t.deepEqual(h.nodePatches, [
    {
      metadata: {
        labels: { 'vic-kubelet.io/layout': 'vm-per-pod', 'vic-kubelet.io/vch-product': 'vic' },
        annotations: { 'vic-kubelet.io/vch-abilities': '{"events":false}' },
      },
    },
  ]);
  h.clock.advance(5_000);
  await settle();
  t.is(h.nodePatches.length, 1, 'patched once per change');
  await stop();
});
