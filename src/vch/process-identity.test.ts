import test from 'ava';
import { mountsUserFiles, resolveProcessIdentity } from './process-identity.js';

// As in busybox, plus a user with a group membership and a name-only group.
const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'app:x:1000:1000:app:/home/app:/bin/sh',
].join('\n');
const group = [
  'root:x:0:',
  'daemon:x:1:',
  'wheel:x:10:root,app',
  'app:x:1000:',
  'audio:x:29:app',
  'ops:x:4000:',
].join('\n');

const resolve = (user: string | undefined, groupAdd?: string[]) =>
  resolveProcessIdentity({ user, groupAdd, passwd, group });

test('no user is root, with the groups /etc/group lists root in', (t) => {
  t.deepEqual(resolve(undefined), { uid: 0, gid: 0, supplementalGroups: [0, 10] });
  t.deepEqual(resolve(''), { uid: 0, gid: 0, supplementalGroups: [0, 10] });
});

test('a user name takes its passwd gid and its memberships; a uid finds the same entry', (t) => {
  const app = { uid: 1000, gid: 1000, supplementalGroups: [1000, 10, 29] };
  t.deepEqual(resolve('app'), app);
  t.deepEqual(resolve('1000'), app);
});

test('a uid the image does not know runs with gid 0 and no memberships', (t) => {
  t.deepEqual(resolve('1500'), { uid: 1500, gid: 0, supplementalGroups: [0] });
});

test('an explicit group replaces the passwd gid and the memberships (runc GetExecUser)', (t) => {
  t.deepEqual(resolve('1001:2002'), { uid: 1001, gid: 2002, supplementalGroups: [2002] });
  t.deepEqual(resolve('app:ops'), { uid: 1000, gid: 4000, supplementalGroups: [4000] });
});

test('GroupAdd comes last, by number or name, without repeating the primary gid', (t) => {
  t.deepEqual(resolve('1001:2002', ['3003', '2002', 'ops']), {
    uid: 1001,
    gid: 2002,
    supplementalGroups: [2002, 3003, 4000],
  });
});

test('a name the image does not have: no identity (the engine refuses to start such a process)', (t) => {
  t.is(resolve('nobody-here'), undefined);
  t.is(resolve('app:nogroup'), undefined);
  t.is(resolve('app', ['nogroup']), undefined);
});

test('an image without passwd or group files: numbers alone', (t) => {
  t.deepEqual(resolveProcessIdentity({ user: '65532', groupAdd: [], passwd: undefined, group: undefined }), {
    uid: 65532,
    gid: 0,
    supplementalGroups: [0],
  });
  t.is(
    resolveProcessIdentity({ user: 'nonroot', groupAdd: [], passwd: undefined, group: undefined }),
    undefined,
  );
});

test('a mount over /etc, /etc/passwd or /etc/group makes the files the container’s own', (t) => {
  t.true(mountsUserFiles(['/data', '/etc/passwd']));
  t.true(mountsUserFiles(['/etc/']));
  t.true(mountsUserFiles(['/etc/group']));
  t.false(mountsUserFiles(['/etc/config', '/data', '/var/run/secrets/kubernetes.io/serviceaccount']));
});
