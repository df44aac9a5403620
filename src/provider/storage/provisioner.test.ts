// The provisioner's reconcile against a fake API server and a fake VCH store: what it creates,
// deletes and says for each decision, and that a repeat after a crash makes nothing twice.
import {
  ApiException,
  type CoreV1Api,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1StorageClass,
} from '@kubernetes/client-node';
import test from 'ava';
import { VicError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import type { StoreVolume, StoreVolumeSpec } from '../../vch/index.js';
import type { ObjectReader } from '../kube/object-cache.js';
import { Provisioner, type StoreApi } from './provisioner.js';
import type { StorageEvents } from './storage-events.js';

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

class FakeStore implements StoreApi {
  volumes = new Map<string, StoreVolume>();
  inUse = new Set<string>();
  creates = 0;
  async create(spec: StoreVolumeSpec): Promise<StoreVolume> {
    this.creates += 1;
    const v = this.volumes.get(spec.name) ?? { ...spec, driver: 'local' };
    this.volumes.set(spec.name, v);
    return v;
  }
  async remove(name: string): Promise<void> {
    if (this.inUse.has(name)) throw new VicError('Conflict', `remove volume ${name}: volume is in use`);
    this.volumes.delete(name);
  }
  async list(): Promise<StoreVolume[]> {
    return [...this.volumes.values()];
  }
  async driver(): Promise<'local'> {
    return 'local';
  }
  canResize(): boolean {
    return false;
  }
}

function fakeCore() {
  const pvs = new Map<string, V1PersistentVolume>();
  const api = {
    async createPersistentVolume({ body }: { body: V1PersistentVolume }) {
      const name = body.metadata?.name ?? '';
      if (pvs.has(name)) throw new ApiException(409, 'AlreadyExists', '{"message":"already exists"}', {});
      pvs.set(name, body);
      return body;
    },
    async readPersistentVolume({ name }: { name: string }) {
      const pv = pvs.get(name);
      if (!pv) throw new ApiException(404, 'NotFound', '{}', {});
      return pv;
    },
    async deletePersistentVolume({ name }: { name: string }) {
      if (!pvs.delete(name)) throw new ApiException(404, 'NotFound', '{}', {});
      return {};
    },
  };
  return { pvs, core: api as unknown as CoreV1Api };
}

const storageClass: V1StorageClass = {
  metadata: { name: 'vic-default' },
  provisioner: 'vic-kubelet.io/vch-volume',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};

const claim: V1PersistentVolumeClaim = {
  metadata: {
    name: 'data',
    namespace: 'ns',
    uid: 'u1',
    annotations: {
      'volume.kubernetes.io/storage-provisioner': 'vic-kubelet.io/vch-volume',
      'volume.kubernetes.io/selected-node': 'vk-a',
    },
  },
  spec: {
    storageClassName: 'vic-default',
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Mi' } },
  },
};

function setup(options: { claims?: V1PersistentVolumeClaim[]; pvs?: V1PersistentVolume[] } = {}) {
  const store = new FakeStore();
  const { pvs, core } = fakeCore();
  for (const pv of options.pvs ?? []) pvs.set(pv.metadata?.name ?? '', pv);
  const events: Array<{ reason: string; message: string; kind: string }> = [];
  const recorder: StorageEvents = {
    record: (object, { reason, message }) => events.push({ reason, message, kind: object.kind }),
  };
  const provisioner = new Provisioner({
    core,
    store,
    nodeName: 'vk-a',
    stores: ['default'],
    events: recorder,
    logger: silentLogger,
  });
  provisioner.useCaches({
    claims: reader(options.claims ?? [claim]),
    volumes: reader([...pvs.values()]),
    classes: reader([storageClass]),
  });
  return { provisioner, store, pvs, events };
}

test('a claim selected for the node gets its VCH volume and PV, with the provisioning events', async (t) => {
  const { provisioner, store, pvs, events } = setup();
  await provisioner.reconcile('claim/ns/data');
  t.deepEqual([...store.volumes.keys()], ['pvc-u1']);
  t.is(pvs.get('pvc-u1')?.spec?.claimRef?.uid, 'u1');
  t.deepEqual(
    events.map((e) => e.reason),
    ['Provisioning', 'ProvisioningSucceeded'],
  );
  t.is(events[1]?.message, 'Successfully provisioned volume pvc-u1');
});

test('provisioning again (a restart before the PV controller bound the claim) makes nothing twice', async (t) => {
  const { provisioner, store, pvs } = setup();
  await provisioner.reconcile('claim/ns/data');
  await provisioner.reconcile('claim/ns/data');
  t.is(store.volumes.size, 1);
  t.is(pvs.size, 1);
});

test('a claim whose PV is made already (not bound yet) is not provisioned again', async (t) => {
  const first = setup();
  await first.provisioner.reconcile('claim/ns/data');
  const again = setup({ pvs: [...first.pvs.values()] });
  await again.provisioner.reconcile('claim/ns/data');
  t.is(again.store.creates, 0);
  t.deepEqual(again.events, []);
});

test('a refused claim gets a ProvisioningFailed event naming the reason, and nothing is made', async (t) => {
  const { provisioner, store, pvs, events } = setup({
    claims: [{ ...claim, spec: { ...claim.spec, volumeMode: 'Block' } }],
  });
  await provisioner.reconcile('claim/ns/data');
  t.is(store.volumes.size, 0);
  t.is(pvs.size, 0);
  t.is(events[0]?.reason, 'ProvisioningFailed');
  t.regex(
    events[0]?.message ?? '',
    /^failed to provision volume with StorageClass "vic-default": volumeMode Block/,
  );
});

const released = (policy: string): V1PersistentVolume => ({
  metadata: {
    name: 'pvc-u1',
    labels: { 'vic-kubelet.io/node': 'vk-a' },
    annotations: { 'pv.kubernetes.io/provisioned-by': 'vic-kubelet.io/vch-volume' },
  },
  spec: {
    persistentVolumeReclaimPolicy: policy,
    csi: { driver: 'vch-volume.vic-kubelet.io', volumeHandle: 'pvc-u1' },
  },
  status: { phase: 'Released' },
});

test('a released PV with reclaim Delete goes with its VCH volume; Retain keeps both', async (t) => {
  const del = setup({ claims: [], pvs: [released('Delete')] });
  del.store.volumes.set('pvc-u1', {
    name: 'pvc-u1',
    store: 'default',
    sizeBytes: 1,
    reclaim: 'Delete',
    owner: 'ns/data',
    ownerUid: 'u1',
    driver: 'local',
  });
  await del.provisioner.reconcile('pv/pvc-u1');
  t.is(del.store.volumes.size, 0);
  t.is(del.pvs.size, 0);

  const keep = setup({ claims: [], pvs: [released('Retain')] });
  keep.store.volumes.set('pvc-u1', {
    name: 'pvc-u1',
    store: 'default',
    sizeBytes: 1,
    reclaim: 'Retain',
    owner: 'ns/data',
    ownerUid: 'u1',
    driver: 'local',
  });
  await keep.provisioner.reconcile('pv/pvc-u1');
  t.is(keep.store.volumes.size, 1);
  t.is(keep.pvs.size, 1);
});

test('a VCH volume still in use is not deleted with its PV: an event says so and the pass retries', async (t) => {
  const { provisioner, store, pvs, events } = setup({ claims: [], pvs: [released('Delete')] });
  store.volumes.set('pvc-u1', {
    name: 'pvc-u1',
    store: 'default',
    sizeBytes: 1,
    reclaim: 'Delete',
    owner: 'ns/data',
    ownerUid: 'u1',
    driver: 'local',
  });
  store.inUse.add('pvc-u1');
  await t.throwsAsync(() => provisioner.reconcile('pv/pvc-u1'), { message: /in use/ });
  t.is(pvs.size, 1, 'the PV stays while its volume does');
  t.is(events[0]?.reason, 'VolumeFailedDelete');
  t.is(events[0]?.kind, 'PersistentVolume');
});

test('an orphan volume (Delete, no PV, claim gone) is removed; a Retain one or one whose claim lives stays', async (t) => {
  const { provisioner, store } = setup({ claims: [claim] });
  const v = (name: string, reclaim: 'Delete' | 'Retain', ownerUid: string): StoreVolume => ({
    name,
    store: 'default',
    sizeBytes: 1,
    reclaim,
    owner: 'ns/x',
    ownerUid,
    driver: 'local',
  });
  store.volumes.set('pvc-gone', v('pvc-gone', 'Delete', 'gone'));
  store.volumes.set('pvc-kept', v('pvc-kept', 'Retain', 'gone2'));
  store.volumes.set('pvc-u1', v('pvc-u1', 'Delete', 'u1'));
  await provisioner.reconcile('orphans');
  t.deepEqual([...store.volumes.keys()].sort(), ['pvc-kept', 'pvc-u1']);
});
