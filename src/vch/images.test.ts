import test from 'ava';
import { classifyPullError } from './images.js';

test('registry answers are classified as a user reads them', (t) => {
  const cases: [string, ReturnType<typeof classifyPullError>][] = [
    [
      'manifest for 127.0.0.1:15000/vic/nope:latest not found: manifest unknown: manifest unknown',
      'ImageNotFound',
    ],
    [
      'Head "http://127.0.0.1:15000/v2/vic/busybox/manifests/latest": no basic auth credentials',
      'ImageUnauthorized',
    ],
    ['unauthorized: authentication required', 'ImageUnauthorized'],
    [
      'Get "https://registry-1.docker.io/v2/": unauthorized: incorrect username or password',
      'ImageUnauthorized',
    ],
    ["pull access denied for nope, repository does not exist or may require 'docker login'", 'ImageNotFound'],
    [
      'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
      'RegistryUnavailable',
    ],
    ['Get "https://nope.invalid/v2/": dial tcp: lookup nope.invalid: no such host', 'RegistryUnavailable'],
    ['invalid reference format', 'InvalidImageName'],
    ['something else entirely', 'Internal'],
  ];
  for (const [message, kind] of cases) t.is(classifyPullError(message), kind, message);
});
