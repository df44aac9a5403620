import { execFileSync } from 'node:child_process';
import test from 'ava';
import { tarArchive } from './tar.js';
import {
  contentHash,
  dockerVolumeName,
  parseState,
  snapshotEntries,
  volumeCreateOptions,
} from './volumes.js';

const pod = { namespace: 'ns', name: 'web', uid: '0f4c6a52-3e1b-4c3e-9d0a-2b7c8e1f9a10' };

function listing(archive: Buffer): string[] {
  return execFileSync('tar', ['-tv', '--numeric-owner'], { input: archive })
    .toString('utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const parts = line.split(/\s+/);
      return `${parts[0]} ${parts[1]} ${parts.slice(5).join(' ')}`;
    });
}

test('a snapshot replaces the slot, fills it, then repoints ..data and links only new names', (t) => {
  const files = [
    { path: 'app.conf', data: Buffer.from('a=1\n'), mode: 0o644 },
    { path: 'nested/key', data: Buffer.from('k'), mode: 0o400 },
  ];
  const hash = contentHash(files, 2000);
  const archive = tarArchive(
    snapshotEntries({
      volume: 'cfg',
      slot: '..snapshot_b',
      files,
      hash,
      linked: new Set(['app.conf']),
      gid: 2000,
    }),
  );
  t.deepEqual(listing(archive), [
    '-rw-r--r-- 0/0 cfg/..snapshot_b',
    'drwxr-xr-x 0/2000 cfg/..snapshot_b/',
    '-rw-r--r-- 0/2000 cfg/..snapshot_b/app.conf',
    'drwxr-xr-x 0/2000 cfg/..snapshot_b/nested/',
    '-r-------- 0/2000 cfg/..snapshot_b/nested/key',
    'lrwxrwxrwx 0/0 cfg/..data -> ..snapshot_b',
    'lrwxrwxrwx 0/0 cfg/nested -> ..data/nested',
    `lrwxrwxrwx 0/0 cfg/..vic-state -> ..snapshot_b:${hash}`,
  ]);
});

test('the content hash changes with data, mode and group, not with order', (t) => {
  const a = { path: 'a', data: Buffer.from('1'), mode: 0o644 };
  const b = { path: 'b', data: Buffer.from('2'), mode: 0o644 };
  t.is(contentHash([a, b], undefined), contentHash([b, a], undefined));
  t.not(contentHash([a], undefined), contentHash([{ ...a, data: Buffer.from('9') }], undefined));
  t.not(contentHash([a], undefined), contentHash([{ ...a, mode: 0o600 }], undefined));
  t.not(contentHash([a], undefined), contentHash([a], 1000));
});

test('volumes are labelled with node, pod and volume; a memory volume is a shared tmpfs', (t) => {
  const disk = volumeCreateOptions('vic-node', pod, { name: 'cache' });
  t.is(disk.Name, dockerVolumeName(pod.uid, 'cache'));
  t.deepEqual(disk.DriverOpts, {});
  t.like(disk.Labels, {
    'vic-kubelet.io/node': 'vic-node',
    'vic-kubelet.io/pod-uid': pod.uid,
    'vic-kubelet.io/volume-name': 'cache',
  });
  const memory = volumeCreateOptions('vic-node', pod, { name: 'shm', medium: 'memory', sizeBytes: 2 ** 26 });
  t.deepEqual(memory.DriverOpts, { type: 'tmpfs', device: 'tmpfs', o: `mode=0777,size=${2 ** 26}` });
});

test('the state link reads back as Docker reports it (an absolute target), so a restart rewrites nothing', (t) => {
  t.deepEqual(parseState('/.vic-kubelet/volumes/cfg/..snapshot_b:ed2b68090703b35bbbbd08b36e5612cd'), {
    slot: '..snapshot_b',
    hash: 'ed2b68090703b35bbbbd08b36e5612cd',
  });
  t.deepEqual(parseState('..snapshot_a:00ff'), { slot: '..snapshot_a', hash: '00ff' });
  t.is(parseState('/.vic-kubelet/volumes/cfg/..2026_01_01'), undefined);
});
