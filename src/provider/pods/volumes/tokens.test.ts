import type { AuthenticationV1TokenRequest, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { FakeClock } from '../../../shared/fake-clock.js';
import { TokenManager } from './tokens.js';

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'team', uid: 'u1' },
  spec: { containers: [], serviceAccountName: 'robot' },
};

function fakeCore(clock: FakeClock) {
  const calls: Array<{ name: string; namespace: string; body: AuthenticationV1TokenRequest }> = [];
  const core = {
    createNamespacedServiceAccountToken: async (req: {
      name: string;
      namespace: string;
      body: AuthenticationV1TokenRequest;
    }) => {
      calls.push(req);
      const seconds = req.body.spec.expirationSeconds ?? 3600;
      return {
        spec: req.body.spec,
        status: {
          token: `token-${calls.length}`,
          expirationTimestamp: new Date(clock.now() + seconds * 1000),
        },
      };
    },
  } as unknown as CoreV1Api;
  return { core, calls };
}

test('a token is bound to the pod, with the audience and expiry asked for', async (t) => {
  const clock = new FakeClock(1_000_000);
  const { core, calls } = fakeCore(clock);
  const tokens = new TokenManager(core, clock);
  t.is(await tokens.token(pod, { audience: 'vault', expirationSeconds: 600 }), 'token-1');
  t.like(calls[0], { name: 'robot', namespace: 'team' });
  t.deepEqual(calls[0]?.body.spec, {
    audiences: ['vault'],
    expirationSeconds: 600,
    boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'u1' },
  });
});

test('a token is reused until 80% of its life, then renewed', async (t) => {
  const clock = new FakeClock(1_000_000);
  const { core } = fakeCore(clock);
  const tokens = new TokenManager(core, clock);
  t.is(await tokens.token(pod, { expirationSeconds: 1000 }), 'token-1');
  t.is(tokens.renewAt('u1'), 1_000_000 + 800_000);
  clock.advance(799_000);
  t.is(await tokens.token(pod, { expirationSeconds: 1000 }), 'token-1');
  clock.advance(1_000);
  t.is(await tokens.token(pod, { expirationSeconds: 1000 }), 'token-2');
  tokens.forget('u1');
  t.is(tokens.renewAt('u1'), undefined);
});
