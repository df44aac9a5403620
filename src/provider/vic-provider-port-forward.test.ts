// Port-forward pipe errors: a connection the pod's side breaks is an error for the client, not a
// silent end; the client going away is the normal end.
import test from 'ava';
import { PassThrough } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { VicError } from '../shared/errors.js';
import { VicProvider, type VicProviderOptions } from './vic-provider.js';

const pod: V1Pod = { metadata: { namespace: 'ns', name: 'web', uid: 'u1' }, spec: { containers: [] } };

function provider(target: PassThrough): VicProvider {
  return new VicProvider({
    vch: { streams: { portForward: async () => target } } as unknown as VicProviderOptions['vch'],
    pods: { pods: () => [pod], pod: () => pod },
    nodeName: 'vk',
    startTime: new Date(),
  });
}

test('a reset on the pod’s side rejects with a typed error that says what broke', async (t) => {
  const target = new PassThrough();
  const client = new PassThrough();
  const forwarding = provider(target).portForward({ namespace: 'ns', name: 'web' }, 8080, client);
  await new Promise((resolve) => setImmediate(resolve));
  target.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  const err = await t.throwsAsync(forwarding, { instanceOf: VicError });
  t.regex(err?.message ?? '', /port 8080 in pod ns\/web broke \(ECONNRESET\)/);
  t.true(client.destroyed);
});

test('the client going away ends the forward without an error', async (t) => {
  const target = new PassThrough();
  const client = new PassThrough();
  const forwarding = provider(target).portForward({ namespace: 'ns', name: 'web' }, 8080, client);
  await new Promise((resolve) => setImmediate(resolve));
  client.destroy();
  await t.notThrowsAsync(forwarding);
  t.true(target.destroyed);
});
