import test from 'ava';
import { appliedFrom } from '../../../vch/index.js';
import type { ContainerStatus, PodVmSpec, PodVmStatus } from '../../../vch/types.js';
import { keepAllocatedResources } from './allocated.js';

const pod = { namespace: 'ns', name: 'p', uid: 'u' };
const asked = { requests: { nanoCpus: 800e6, memoryBytes: 96 * 2 ** 20 }, limits: { nanoCpus: 900e6 } };
const allocated = { requests: { nanoCpus: 150e6, memoryBytes: 96 * 2 ** 20 }, limits: { nanoCpus: 300e6 } };

function specAsking(): PodVmSpec {
  return {
    pod,
    nodeName: 'n',
    containers: [{ name: 'main', image: 'i', resources: structuredClone(asked) }],
  };
}

function statusRunning(resources: typeof allocated | undefined): PodVmStatus {
  const main: ContainerStatus = {
    name: 'main',
    role: 'app',
    attempt: 0,
    id: 'c1',
    image: 'i',
    imageId: 'sha256:1',
    state: { kind: 'terminated', exitCode: 137, reason: 'Error' },
    restartCount: 0,
    applied: appliedFrom(resources),
  };
  return { pod, nodeName: 'n', initContainers: [], containers: [main] };
}

test('a restart keeps what the previous attempt ran with, not the pending spec', (t) => {
  const spec = specAsking();
  keepAllocatedResources(spec, 'main', statusRunning(allocated));
  // The same Docker settings as the previous attempt: shares from the 150m request, the 300m quota.
  t.deepEqual(appliedFrom(spec.containers[0]?.resources), appliedFrom(allocated));
});

test('CPU shares round-trip for every request a container can have', (t) => {
  for (let milli = 1; milli <= 4000; milli += 7) {
    const applied = appliedFrom({ requests: { nanoCpus: milli * 1e6 } });
    const spec = specAsking();
    keepAllocatedResources(spec, 'main', {
      ...statusRunning(undefined),
      containers: [{ ...statusRunning(undefined).containers[0]!, applied }],
    });
    t.deepEqual(appliedFrom(spec.containers[0]?.resources), applied, `${milli}m`);
  }
});

test('a first attempt (no previous container) takes the spec', (t) => {
  const spec = specAsking();
  keepAllocatedResources(spec, 'main', { pod, nodeName: 'n', initContainers: [], containers: [] });
  t.deepEqual(spec.containers[0]?.resources, asked);
});

test('a previous attempt with no limits at all: the new one has none either', (t) => {
  const spec = specAsking();
  keepAllocatedResources(spec, 'main', statusRunning(undefined));
  t.is(spec.containers[0]?.resources, undefined);
});
