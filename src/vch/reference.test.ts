import test from 'ava';
import { VicError } from '../shared/errors.js';
import { credentialsFor, defaultPullPolicy, normalizeRegistry, parseReference } from './reference.js';

test('references parse into registry, path, tag and digest', (t) => {
  t.like(parseReference('busybox'), {
    domain: 'docker.io',
    path: 'library/busybox',
    repository: 'busybox',
    tag: undefined,
  });
  t.like(parseReference('vic-test/busybox:latest'), {
    domain: 'docker.io',
    path: 'vic-test/busybox',
    tag: 'latest',
  });
  t.like(parseReference('127.0.0.1:15000/vic/busybox:1.0'), {
    domain: '127.0.0.1:15000',
    path: 'vic/busybox',
    repository: '127.0.0.1:15000/vic/busybox',
    tag: '1.0',
  });
  t.like(parseReference('localhost/app'), { domain: 'localhost', path: 'app' });
  const digest = `sha256:${'a'.repeat(64)}`;
  t.like(parseReference(`quay.io/org/app@${digest}`), { domain: 'quay.io', digest, tag: undefined });
  t.like(parseReference(`quay.io/org/app:v1@${digest}`), { tag: 'v1', digest });
});

test('invalid references are refused with the reason, before reaching the VCH', (t) => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['busybox:', /not a valid tag/],
    ['busybox:-x', /not a valid tag/],
    ['busybox@sha256:123', /digest/],
    ['a//b', /path component/],
    ['my_registry:5000/app', /registry host/],
    [' busybox', /spaces/],
    [`${'a'.repeat(256)}`, /longer than 255/],
  ];
  for (const [image, why] of cases) {
    const err = t.throws(() => parseReference(image), { instanceOf: VicError });
    t.is(err?.code, 'InvalidImageName', image);
    t.regex(err?.message ?? '', why, image);
  }
});

test('the default pull policy follows Kubernetes', (t) => {
  t.is(defaultPullPolicy(parseReference('busybox')), 'Always');
  t.is(defaultPullPolicy(parseReference('busybox:latest')), 'Always');
  t.is(defaultPullPolicy(parseReference('busybox:1.36')), 'IfNotPresent');
  t.is(defaultPullPolicy(parseReference(`busybox@sha256:${'b'.repeat(64)}`)), 'IfNotPresent');
});

test('registries written as in docker configs normalize to a host', (t) => {
  t.deepEqual(normalizeRegistry('https://index.docker.io/v1/'), { host: 'docker.io', path: '' });
  t.deepEqual(normalizeRegistry('127.0.0.1:15000'), { host: '127.0.0.1:15000', path: '' });
  t.deepEqual(normalizeRegistry('http://Registry.Example.com/team/'), {
    host: 'registry.example.com',
    path: 'team',
  });
});

test('credentials match by registry host, the most specific path first', (t) => {
  const host = { registry: '127.0.0.1:15000', username: 'host', password: 'p' };
  const team = { registry: 'http://127.0.0.1:15000/vic', username: 'team', password: 'p' };
  const other = { registry: 'quay.io', username: 'quay', password: 'p' };
  const hub = { registry: 'https://index.docker.io/v1/', username: 'hub', password: 'p' };
  const creds = [host, team, other, hub];
  t.deepEqual(credentialsFor(parseReference('127.0.0.1:15000/vic/busybox'), creds), [team, host]);
  t.deepEqual(credentialsFor(parseReference('127.0.0.1:15000/victor/busybox'), creds), [host]);
  t.deepEqual(credentialsFor(parseReference('busybox'), creds), [hub]);
  t.deepEqual(credentialsFor(parseReference('ghcr.io/x/y'), creds), []);
});
