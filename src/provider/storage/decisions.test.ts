import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import test from 'ava';
import { decideClaim, decideVolume, type ClaimInputs } from './decisions.js';

const storageClass: V1StorageClass = {
  metadata: { name: 'vic-default' },
  provisioner: 'vic-kubelet.io/vch-volume',
  parameters: { volumeStore: 'default' },
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};

function claim(
  extra: Partial<V1PersistentVolumeClaim['spec']> = {},
  annotations = {},
): V1PersistentVolumeClaim {
  return {
    metadata: {
      name: 'data',
      namespace: 'ns',
      uid: 'u1',
      annotations: {
        'volume.kubernetes.io/storage-provisioner': 'vic-kubelet.io/vch-volume',
        'volume.kubernetes.io/selected-node': 'vk-a',
        ...annotations,
      },
    },
    spec: {
      storageClassName: 'vic-default',
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
      ...extra,
    },
  };
}

const inputs = (c: V1PersistentVolumeClaim, more: Partial<ClaimInputs> = {}): ClaimInputs => ({
  claim: c,
  storageClass,
  nodeName: 'vk-a',
  stores: ['default'],
  driver: 'local',
  canResize: false,
  ...more,
});

test('a claim selected for this node is provisioned: a store volume and a PV pre-bound and pinned here', (t) => {
  const d = decideClaim(inputs(claim()));
  if (d.kind !== 'provision') return t.fail(d.kind);
  t.deepEqual(d.volume, {
    name: 'pvc-u1',
    store: 'default',
    sizeBytes: 2 ** 30,
    reclaim: 'Delete',
    owner: 'ns/data',
    ownerUid: 'u1',
  });
  const spec = d.pv.spec;
  t.is(d.pv.metadata?.name, 'pvc-u1');
  t.is(d.pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'vic-kubelet.io/vch-volume');
  t.is(d.pv.metadata?.labels?.['vic-kubelet.io/node'], 'vk-a');
  t.deepEqual(spec?.claimRef, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    namespace: 'ns',
    name: 'data',
    uid: 'u1',
  });
  t.deepEqual(spec?.capacity, { storage: String(2 ** 30) });
  t.deepEqual(spec?.accessModes, ['ReadWriteOnce']);
  t.is(spec?.persistentVolumeReclaimPolicy, 'Delete');
  t.is(spec?.storageClassName, 'vic-default');
  t.is(spec?.csi?.volumeHandle, 'pvc-u1');
  t.deepEqual(spec?.nodeAffinity?.required?.nodeSelectorTerms, [
    { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['vk-a'] }] },
  ]);
});

test('the beta provisioner annotation counts too; the class reclaim policy Retain goes on volume and PV', (t) => {
  const c = claim({}, {});
  delete c.metadata!.annotations!['volume.kubernetes.io/storage-provisioner'];
  c.metadata!.annotations!['volume.beta.kubernetes.io/storage-provisioner'] = 'vic-kubelet.io/vch-volume';
  const d = decideClaim(inputs(c, { storageClass: { ...storageClass, reclaimPolicy: 'Retain' } }));
  if (d.kind !== 'provision') return t.fail(d.kind);
  t.is(d.volume.reclaim, 'Retain');
  t.is(d.pv.spec?.persistentVolumeReclaimPolicy, 'Retain');
});

test('claims of other nodes, other provisioners, not yet selected, bound or deleting are left alone', (t) => {
  const kinds = [
    claim({}, { 'volume.kubernetes.io/selected-node': 'vk-b' }),
    claim({}, { 'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com' }),
    (() => {
      const c = claim();
      delete c.metadata!.annotations!['volume.kubernetes.io/selected-node'];
      return c;
    })(),
    claim({ volumeName: 'pvc-u1' }),
    { ...claim(), metadata: { ...claim().metadata, deletionTimestamp: new Date() } },
  ].map((c) => decideClaim(inputs(c)).kind);
  t.deepEqual(kinds, ['ignore', 'ignore', 'ignore', 'ignore', 'ignore']);
});

test('what the node cannot provision is refused with a message that names it', (t) => {
  const message = (c: V1PersistentVolumeClaim, more: Partial<ClaimInputs> = {}) => {
    const d = decideClaim(inputs(c, more));
    return d.kind === 'refuse' ? d.message : `not refused: ${d.kind}`;
  };
  t.is(message(claim({ selector: { matchLabels: { a: 'b' } } })), 'claim Selector is not supported');
  t.regex(message(claim({ volumeMode: 'Block' })), /volumeMode Block/);
  t.regex(message(claim({ dataSource: { kind: 'VolumeSnapshot', name: 's' } })), /dataSource/);
  t.regex(
    message(claim({ accessModes: ['ReadWriteMany'] }), { driver: 'vsphere' }),
    /access mode ReadWriteMany not supported by the VCH's vsphere volume driver/,
  );
  t.regex(
    message(claim(), { storageClass: { ...storageClass, parameters: { volumeStore: 'fast' } } }),
    /volume store "fast" .* not one of this node's volume stores: default/,
  );
  t.regex(message(claim({ resources: {} })), /no resources.requests.storage/);
});

test('a bound claim asking for more than its volume has is refused where the driver cannot grow it', (t) => {
  const pv: V1PersistentVolume = {
    metadata: {
      name: 'pvc-u1',
      labels: { 'vic-kubelet.io/node': 'vk-a' },
      annotations: { 'pv.kubernetes.io/provisioned-by': 'vic-kubelet.io/vch-volume' },
    },
    spec: { capacity: { storage: '1Gi' } },
  };
  const grown = claim({ volumeName: 'pvc-u1', resources: { requests: { storage: '2Gi' } } });
  const d = decideClaim(inputs(grown, { boundVolume: pv }));
  t.is(d.kind, 'refuseResize');
  t.regex(d.kind === 'refuseResize' ? d.message : '', /cannot grow a volume/);
  t.is(decideClaim(inputs(grown, { boundVolume: pv, canResize: true })).kind, 'ignore');
  t.is(decideClaim(inputs(claim({ volumeName: 'pvc-u1' }), { boundVolume: pv })).kind, 'ignore');
});

test('a released PV of this node with reclaim Delete is deleted; Retain, Bound or foreign ones are kept', (t) => {
  const pv = (
    phase: string,
    policy: string,
    node = 'vk-a',
    by = 'vic-kubelet.io/vch-volume',
  ): V1PersistentVolume => ({
    metadata: {
      name: 'pvc-u1',
      labels: { 'vic-kubelet.io/node': node },
      annotations: { 'pv.kubernetes.io/provisioned-by': by },
    },
    spec: {
      persistentVolumeReclaimPolicy: policy,
      csi: { driver: 'vch-volume.vic-kubelet.io', volumeHandle: 'pvc-u1' },
    },
    status: { phase },
  });
  t.deepEqual(decideVolume(pv('Released', 'Delete'), 'vk-a'), { kind: 'delete', volumeName: 'pvc-u1' });
  t.is(decideVolume(pv('Released', 'Retain'), 'vk-a').kind, 'keep');
  const deleting = pv('Released', 'Delete');
  deleting.metadata!.deletionTimestamp = new Date();
  t.is(decideVolume(deleting, 'vk-a').kind, 'keep');
  t.is(decideVolume(pv('Bound', 'Delete'), 'vk-a').kind, 'keep');
  t.is(decideVolume(pv('Released', 'Delete', 'vk-b'), 'vk-a').kind, 'keep');
  t.is(decideVolume(pv('Released', 'Delete', 'vk-a', 'ebs.csi.aws.com'), 'vk-a').kind, 'keep');
});
