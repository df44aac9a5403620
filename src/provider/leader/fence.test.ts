// The fences: an API call and a Docker request do not leave when the fence refuses, and do when it
// lets them pass. No network: the API server named here does not exist.
import test from 'ava';
import { CoreV1Api } from '@kubernetes/client-node';
import { FencedKubeConfig, fenceModem } from './fence.js';

class Refused extends Error {}

function fencedClient(allow: () => boolean) {
  let checks = 0;
  const kc = new FencedKubeConfig(() => {
    checks++;
    if (!allow()) throw new Refused('not the leader');
  });
  kc.loadFromClusterAndUser({ name: 'c', server: 'http://127.0.0.1:9', skipTLSVerify: true }, { name: 'u' });
  return { api: kc.makeApiClient(CoreV1Api), kc, checks: () => checks };
}

test('an API call passes the fence before it leaves, and is refused when the fence says so', async (t) => {
  let allow = false;
  const { api, checks } = fencedClient(() => allow);
  await t.throwsAsync(api.readNode({ name: 'n1' }), { instanceOf: Refused });
  t.is(checks(), 1);
  allow = true;
  // Let through, it reaches the network (port 9 refuses): not our error.
  const err: unknown = await api.readNode({ name: 'n1' }).catch((e: unknown) => e);
  t.is((err as { code?: string }).code, 'ECONNREFUSED');
  t.is(checks(), 2);
});

test('watches and WebSockets (applyToHTTPSOptions) pass the fence too', async (t) => {
  const { kc, checks } = fencedClient(() => false);
  await t.throwsAsync(kc.applyToFetchOptions({}), { instanceOf: Refused });
  await t.throwsAsync(kc.applyToHTTPSOptions({}), { instanceOf: Refused });
  t.is(checks(), 2);
});

test('a Docker request passes the fence before the modem dials', (t) => {
  const dialed: unknown[] = [];
  const modem = {
    dial(options: unknown, callback?: unknown) {
      dialed.push([options, callback]);
      return 'sent';
    },
  };
  let allow = false;
  fenceModem(modem, () => {
    if (!allow) throw new Refused('not the leader');
  });
  t.throws(() => modem.dial({ path: '/containers/create' }), { instanceOf: Refused });
  t.deepEqual(dialed, []);
  allow = true;
  t.is(modem.dial({ path: '/containers/create' }), 'sent');
  t.deepEqual(dialed, [[{ path: '/containers/create' }, undefined]]);
});
