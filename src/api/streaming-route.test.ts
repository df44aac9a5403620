import test from 'ava';
import { isStreamingPath, matchStreamingRoute } from './streaming-route.js';

test('exec and attach with and without a UID', (t) => {
  t.deepEqual(matchStreamingRoute('/exec/ns/web/main'), {
    kind: 'exec',
    pod: { namespace: 'ns', name: 'web' },
    container: 'main',
  });
  t.deepEqual(matchStreamingRoute('/attach/ns/web/1234-abcd/main'), {
    kind: 'attach',
    pod: { namespace: 'ns', name: 'web', uid: '1234-abcd' },
    container: 'main',
  });
});

test('portForward with and without a UID names no container', (t) => {
  t.deepEqual(matchStreamingRoute('/portForward/ns/web'), {
    kind: 'portforward',
    pod: { namespace: 'ns', name: 'web' },
  });
  t.deepEqual(matchStreamingRoute('/portForward/ns/web/u1'), {
    kind: 'portforward',
    pod: { namespace: 'ns', name: 'web', uid: 'u1' },
  });
});

test('segments are percent-decoded', (t) => {
  t.is(matchStreamingRoute('/exec/ns/web/my%2Dc')?.container, 'my-c');
});

test('anything else does not match', (t) => {
  for (const path of [
    '/exec/ns/web',
    '/exec/ns/web/u/c/extra',
    '/portForward/ns',
    '/portforward/ns/web',
    '/Exec/ns/web/c',
    '/containerLogs/ns/web/c',
    '/exec/ns/%E0%A4%A/c',
    '/',
  ]) {
    t.is(matchStreamingRoute(path), undefined, path);
  }
});

test('isStreamingPath looks at the first segment only', (t) => {
  t.true(isStreamingPath('/exec/anything'));
  t.true(isStreamingPath('/portForward'));
  t.false(isStreamingPath('/execute/ns/web/c'));
  t.false(isStreamingPath('/pods'));
});
