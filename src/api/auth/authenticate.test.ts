import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import test from 'ava';
import { FakeClock } from '../../shared/fake-clock.js';
import {
  Authenticator,
  bearerToken,
  cachedTokenReviewer,
  stripCredentials,
  type TokenReviewer,
} from './authenticate.js';

function request(headers: Record<string, string>): IncomingMessage {
  return { headers, socket: new Socket() } as unknown as IncomingMessage;
}

const wsToken = (token: string) =>
  `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;

test('bearer token from the Authorization header', (t) => {
  t.is(bearerToken(request({ authorization: 'Bearer abc.def' })), 'abc.def');
  t.is(bearerToken(request({ authorization: 'bearer abc' })), 'abc');
  t.is(bearerToken(request({ authorization: 'Basic dXNlcjpwdw==' })), undefined);
  t.is(bearerToken(request({ authorization: 'Bearer ' })), undefined);
  t.is(bearerToken(request({})), undefined);
});

test('bearer token from the WebSocket subprotocol, only on a WebSocket upgrade', (t) => {
  const protocols = `v4.channel.k8s.io, ${wsToken('tok-1')}`;
  t.is(bearerToken(request({ upgrade: 'websocket', 'sec-websocket-protocol': protocols })), 'tok-1');
  t.is(bearerToken(request({ 'sec-websocket-protocol': protocols })), undefined);
});

test('credentials are stripped from the request', (t) => {
  const req = request({
    authorization: 'Bearer x',
    upgrade: 'websocket',
    'sec-websocket-protocol': `v5.channel.k8s.io, ${wsToken('t')}, v4.channel.k8s.io`,
  });
  stripCredentials(req);
  t.is(req.headers.authorization, undefined);
  t.is(req.headers['sec-websocket-protocol'], 'v5.channel.k8s.io, v4.channel.k8s.io');
});

test('anonymous requests are not authenticated', async (t) => {
  const authn = new Authenticator({ tokens: { review: () => Promise.resolve(undefined) }, x509: true });
  const result = await authn.authenticate(request({}));
  t.is(result.user, undefined);
  t.like(result, { reason: 'no credentials' });
});

test('a valid token gives the reviewed user; a rejected or unreviewable one gives none', async (t) => {
  const tokens: TokenReviewer = {
    async review(token) {
      if (token === 'good')
        return { name: 'system:serviceaccount:ns:sa', groups: ['system:serviceaccounts'] };
      if (token === 'broken') throw new Error('API server down');
      return undefined;
    },
  };
  const authn = new Authenticator({ tokens, x509: true });
  t.like(await authn.authenticate(request({ authorization: 'Bearer good' })), {
    method: 'token',
    user: { name: 'system:serviceaccount:ns:sa' },
  });
  t.like(await authn.authenticate(request({ authorization: 'Bearer bad' })), { reason: 'token rejected' });
  t.like(await authn.authenticate(request({ authorization: 'Bearer broken' })), {
    reason: 'token review failed',
  });
});

test('token reviews are cached by hash: accepted 2 minutes, rejected briefly, failures not at all', async (t) => {
  const clock = new FakeClock(0);
  const seen: string[] = [];
  let fail = false;
  const cached = cachedTokenReviewer(
    {
      async review(token) {
        seen.push(token);
        if (fail) throw new Error('down');
        return token === 'good' ? { name: 'u', groups: [] } : undefined;
      },
    },
    { clock },
  );
  t.is((await cached.review('good'))?.name, 'u');
  clock.advance(119_000);
  t.is((await cached.review('good'))?.name, 'u');
  t.deepEqual(seen, ['good']);
  clock.advance(2_000);
  await cached.review('good');
  t.is(seen.length, 2);
  t.is(await cached.review('bad'), undefined);
  clock.advance(9_000);
  t.is(await cached.review('bad'), undefined);
  t.is(seen.length, 3);
  clock.advance(2_000);
  fail = true;
  await t.throwsAsync(cached.review('bad'));
  await t.throwsAsync(cached.review('bad'));
  t.is(seen.length, 5);
});

test('concurrent reviews of one token make one call', async (t) => {
  let calls = 0;
  const cached = cachedTokenReviewer(
    {
      async review() {
        calls += 1;
        await new Promise((resolve) => setImmediate(resolve));
        return { name: 'u', groups: [] };
      },
    },
    { clock: new FakeClock(0) },
  );
  await Promise.all([cached.review('t'), cached.review('t'), cached.review('t')]);
  t.is(calls, 1);
});
