import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import type { VolumeUser } from '../../vch/index.js';
import { multiAttachMessage, NodeClaims } from './claim-volumes.js';
import type { ObjectReader } from '../kube/object-cache.js';

function reader<T extends { metadata?: { name?: string; namespace?: string } }>(items: T[]): ObjectReader<T> {
  return {
    synced: true,
    get: (name, namespace) =>
      items.find(
        (i) => i.metadata?.name === name && (namespace === undefined || i.metadata?.namespace === namespace),
      ),
    list: () => items,
  };
}

const boundClaim = (name: string, uid: string, volumeName: string): V1PersistentVolumeClaim => ({
  metadata: { name, namespace: 'ns', uid },
  spec: { volumeName },
  status: { phase: 'Bound' },
});

const pv = (
  name: string,
  claimUid: string,
  modes = ['ReadWriteOnce'],
  node = 'vk-a',
): V1PersistentVolume => ({
  metadata: { name, labels: { 'vic-kubelet.io/node': node } },
  spec: {
    accessModes: modes,
    claimRef: { uid: claimUid },
    csi: { driver: 'vch-volume.vic-kubelet.io', volumeHandle: name },
  },
});

const pod = (name: string, uid: string, claims: string[]): V1Pod => ({
  metadata: { name, namespace: 'ns', uid },
  spec: {
    containers: [{ name: 'main' }],
    volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
  },
});

function nodeClaims(users: Record<string, VolumeUser[]> = {}) {
  return new NodeClaims({
    claims: reader([
      boundClaim('data', 'c1', 'pvc-c1'),
      boundClaim('shared', 'c2', 'pvc-c2'),
      { metadata: { name: 'pending', namespace: 'ns', uid: 'c3' }, spec: {}, status: { phase: 'Pending' } },
      boundClaim('foreign', 'c4', 'pvc-c4'),
    ]),
    volumes: reader([
      pv('pvc-c1', 'c1'),
      pv('pvc-c2', 'c2', ['ReadWriteMany']),
      pv('pvc-c4', 'c4', undefined, 'vk-b'),
    ]),
    users: async (volume) => users[volume] ?? [],
    nodeName: 'vk-a',
  });
}

test('a bound claim resolves to its store volume; ReadWriteOnce ones are exclusive', (t) => {
  const r = nodeClaims().resolve(pod('p', 'u1', ['data', 'shared']));
  if (!r.ok) return t.fail(r.message);
  t.deepEqual(
    [...r.sources],
    [
      ['v0', 'pvc-c1'],
      ['v1', 'pvc-c2'],
    ],
  );
  t.deepEqual([...r.exclusive], [['pvc-c1', 'pvc-c1']]);
});

test('an unbound, missing or foreign claim is not mounted: the kubelet says why', (t) => {
  const claims = nodeClaims();
  const message = (claim: string) => {
    const r = claims.resolve(pod('p', 'u1', [claim]));
    return r.ok ? 'resolved' : r.message;
  };
  t.is(
    message('pending'),
    'unmounted volumes=[v0], unattached volumes=[], failed to process volumes=[v0]: error processing PVC ns/pending: ' +
      'PVC ns/pending has non-bound phase ("Pending") or empty pvc.Spec.VolumeName ("")',
  );
  t.regex(
    message('absent'),
    /error processing PVC ns\/absent: failed to fetch PVC from API server: .*not found/,
  );
  t.regex(message('foreign'), /PV pvc-c4 is not a VCH volume of node vk-a/);
});

test('a ReadWriteOnce volume is held by one pod at a time: the second is told who holds it', async (t) => {
  const claims = nodeClaims();
  const first = pod('first', 'u1', ['data']);
  const second = pod('second', 'u2', ['data']);
  const exclusive = new Map([['pvc-c1', 'pvc-c1']]);
  const [a, b] = await Promise.all([
    claims.reserve(first, exclusive, [first, second]),
    claims.reserve(second, exclusive, [first, second]),
  ]);
  t.deepEqual(a, { ok: true });
  t.deepEqual(b, {
    ok: false,
    message: 'Multi-Attach error for volume "pvc-c1" Volume is already used by pod(s) first',
  });
  // The first pod is gone from the node: the volume is free.
  claims.release('u1');
  t.deepEqual(await claims.reserve(second, exclusive, [second]), { ok: true });
});

test('after a restart the VCH says who mounts a volume: a running container of another pod holds it', async (t) => {
  const claims = nodeClaims({
    'pvc-c1': [{ containerId: 'x', state: 'running', podUid: 'u1', podNamespace: 'ns', podName: 'first' }],
  });
  const second = pod('second', 'u2', ['data']);
  const exclusive = new Map([['pvc-c1', 'pvc-c1']]);
  const r = await claims.reserve(second, exclusive, [second]);
  t.false(r.ok);
  // A finished pod's exited container holds nothing.
  const done = nodeClaims({ 'pvc-c1': [{ containerId: 'x', state: 'exited', podUid: 'u1' }] });
  t.deepEqual(await done.reserve(second, exclusive, [second]), { ok: true });
});

test('the Multi-Attach message counts pods of other namespaces as the attach/detach controller does', (t) => {
  const holders = [
    { uid: '1', namespace: 'ns', name: 'a' },
    { uid: '2', namespace: 'other', name: 'b' },
  ];
  t.is(
    multiAttachMessage('pv', 'ns', holders),
    'Multi-Attach error for volume "pv" Volume is already used by pod(s) a and 1 pod(s) in different namespaces',
  );
  t.is(
    multiAttachMessage('pv', 'x', holders),
    'Multi-Attach error for volume "pv" Volume is already used by 2 pod(s) in different namespaces',
  );
});
