import test from 'ava';
import { buildProfile, identify, versionAtLeast, type IdentitySource } from './abilities.js';

// What a VIC 1.5 VCH answers (vmware/vic system.go): ID is the product, the driver its port layer.
const vic: IdentitySource = {
  info: {
    ID: 'vSphere Integrated Containers',
    Driver: 'vSphere Integrated Containers v1.5.6 Backend Engine',
    ServerVersion: 'v1.5.6',
    OperatingSystem: 'vmnix-x86',
    SystemStatus: [['VolumeStores', 'default']],
  },
  version: { Version: '1.5.6', ApiVersion: '1.25' },
};
const dockerEngine: IdentitySource = {
  info: {
    ID: 'ABCD:EFGH',
    Driver: 'overlay2',
    ServerVersion: '28.1.1',
    OperatingSystem: 'Debian GNU/Linux 12',
  },
  version: { Version: '28.1.1', ApiVersion: '1.49', Components: [{ Name: 'Engine' }] },
};

test('a VIC VCH is known by its identity: no shared namespaces, so one VM per pod', (t) => {
  const profile = buildProfile(vic, {});
  t.like(profile.identity, { product: 'vic', version: '1.5.6', apiVersion: '1.25' });
  t.deepEqual(profile.abilities, {
    sharedNamespaces: false,
    exec: true,
    resize: true,
    stats: true,
    events: true,
    namedVolumes: true,
    archives: true,
  });
  t.is(profile.layout, 'vm-per-pod');
  t.like(profile.limits, { maxAppContainers: 1, sidecars: false, minMemoryBytes: 512 * 2 ** 20 });
  t.deepEqual(profile.overridden, []);
});

test('an old VIC has no exec or archives, and no named volumes without a volume store', (t) => {
  const old = buildProfile(
    { info: { ...vic.info, ServerVersion: 'v1.1.1', SystemStatus: [] }, version: vic.version },
    {},
  );
  t.like(old.abilities, { exec: false, archives: false, namedVolumes: false, sharedNamespaces: false });
});

test('a Docker engine shares namespaces: the shared layout; probes settle what identity leaves open', (t) => {
  const profile = buildProfile(dockerEngine, { events: false });
  t.is(profile.identity.product, 'docker');
  t.is(profile.layout, 'shared');
  t.true(profile.abilities.sharedNamespaces);
  t.false(profile.abilities.events);
  t.is(profile.limits.maxAppContainers, undefined);
});

test('the operator overrides the layout and single abilities, and it says so', (t) => {
  const profile = buildProfile(dockerEngine, {}, { layout: 'vm-per-pod', abilities: { exec: false } });
  t.is(profile.layout, 'vm-per-pod');
  t.false(profile.abilities.exec);
  t.true(profile.abilities.sharedNamespaces);
  t.deepEqual(profile.overridden, ['exec', 'layout']);
  t.is(buildProfile(vic, {}, { abilities: { sharedNamespaces: true } }).layout, 'shared');
});

test('identity and versions', (t) => {
  t.is(identify({ info: {}, version: {} }).product, 'unknown');
  t.true(versionAtLeast('1.10', '1.9'));
  t.false(versionAtLeast('1.1.1', '1.2'));
  t.true(versionAtLeast('1.25', '1.25'));
});
