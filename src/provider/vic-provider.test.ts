import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../shared/errors.js';
import type { PodVmStreams } from '../vch/index.js';
import { VicProvider, type VicProviderOptions } from './vic-provider.js';

const pod: V1Pod = {
  metadata: { namespace: 'ns', name: 'web', uid: 'uid-1' },
  spec: { containers: [{ name: 'main' }] },
};

/** A provider over a VCH whose attach ends as a container that exited with `exitCode` would. */
function providerWithAttach(exitCode: number | undefined): { provider: VicProvider; attached: string[] } {
  const attached: string[] = [];
  const streams: Pick<PodVmStreams, 'attach'> = {
    attach: async (target) => {
      attached.push(`${target.uid}/${target.containerName}`);
      return exitCode === undefined ? undefined : { exitCode };
    },
  };
  const provider = new VicProvider({
    // Only attach is reached by these tests.
    vch: { streams } as unknown as VicProviderOptions['vch'],
    pods: {
      pods: () => [pod],
      pod: (namespace, name) => (namespace === 'ns' && name === 'web' ? pod : undefined),
    },
    nodeName: 'vk',
    startTime: new Date(0),
  });
  return { provider, attached };
}

const io = { tty: false, signal: new AbortController().signal };

test('attach succeeds once the session ends, whatever the container exited with, as the kubelet', async (t) => {
  for (const exitCode of [0, 6, undefined]) {
    const { provider, attached } = providerWithAttach(exitCode);
    t.deepEqual(await provider.attach({ namespace: 'ns', name: 'web' }, 'main', io), { exitCode: 0 });
    t.deepEqual(attached, ['uid-1/main']);
  }
});

test('attach to a container the pod does not have is NotFound, and reaches no VCH', async (t) => {
  const { provider, attached } = providerWithAttach(0);
  const error = await t.throwsAsync(provider.attach({ namespace: 'ns', name: 'web' }, 'nope', io));
  t.true(isNotFound(error));
  t.deepEqual(attached, []);
});
