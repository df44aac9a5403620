// What the provisioner does with a claim or a PV, as pure functions of the API objects: provision,
// refuse (with the message the claim's event carries), leave alone, or delete. The conditions follow
// sig-storage-lib-external-provisioner controller.go (shouldProvision, shouldDelete) for a node-local
// provisioner: a WaitForFirstConsumer claim is provisioned by the node the scheduler selected.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import type { StoreDriver, StoreVolumeSpec } from '../../vch/index.js';
import { parseQuantity } from '../resources/quantity.js';
import {
  Ann,
  defaultStore,
  provisionerName,
  pvNodeLabel,
  storeParameter,
  volumeDriverName,
  volumeNameOf,
} from './names.js';

export interface ClaimInputs {
  claim: V1PersistentVolumeClaim;
  /** The claim's StorageClass, if it exists. */
  storageClass: V1StorageClass | undefined;
  nodeName: string;
  /** The node's volume stores (`--volume-store`). */
  stores: readonly string[];
  driver: StoreDriver;
  /** The PV the claim is bound to, when it is (for the expansion check). */
  boundVolume?: V1PersistentVolume;
  /** Whether the VCH's driver can grow a volume. */
  canResize: boolean;
}

export type ClaimDecision =
  | { kind: 'ignore'; why: string }
  | { kind: 'refuse'; message: string }
  | { kind: 'provision'; volume: StoreVolumeSpec; pv: V1PersistentVolume }
  /** A bound claim asks for more than its volume has, and the driver cannot grow it. */
  | { kind: 'refuseResize'; message: string };

/** Access modes by driver: the local driver's volumes are directories (any mode); VIC's are disks. */
const accessModesOf: Record<StoreDriver, readonly string[]> = {
  local: ['ReadWriteOnce', 'ReadWriteOncePod', 'ReadOnlyMany', 'ReadWriteMany'],
  vsphere: ['ReadWriteOnce', 'ReadWriteOncePod'],
};

function isOurs(claim: V1PersistentVolumeClaim): boolean {
  const a = claim.metadata?.annotations ?? {};
  return a[Ann.storageProvisioner] === provisionerName || a[Ann.betaStorageProvisioner] === provisionerName;
}

/** The claim's requested size in bytes. */
export function requestedBytes(claim: V1PersistentVolumeClaim): number | undefined {
  const text = claim.spec?.resources?.requests?.storage;
  return text === undefined ? undefined : parseQuantity(text);
}

function storageOf(pv: V1PersistentVolume | undefined): number | undefined {
  const text = pv?.spec?.capacity?.storage;
  return text === undefined ? undefined : parseQuantity(text);
}

export function storeOf(storageClass: V1StorageClass): string {
  return storageClass.parameters?.[storeParameter] ?? defaultStore;
}

export function decideClaim(inputs: ClaimInputs): ClaimDecision {
  const { claim, storageClass, nodeName } = inputs;
  const meta = claim.metadata ?? {};
  const key = `${meta.namespace}/${meta.name}`;
  if (meta.deletionTimestamp) return { kind: 'ignore', why: 'claim is being deleted' };
  if (claim.spec?.volumeName) return decideBound(inputs);
  if (!isOurs(claim)) return { kind: 'ignore', why: 'claim is not left to this provisioner' };
  // A node-local provisioner serves only the claims whose pod was scheduled to its node (the
  // library's NodeName check); an Immediate class never gets a selected node and stays pending.
  const selected = meta.annotations?.[Ann.selectedNode];
  if (selected !== nodeName) return { kind: 'ignore', why: `selected node is ${selected ?? 'none'}` };
  if (!storageClass) return { kind: 'ignore', why: `StorageClass ${claim.spec?.storageClassName} not found` };
  const refuse = (message: string): ClaimDecision => ({ kind: 'refuse', message });
  if (storageClass.provisioner !== provisionerName) {
    return refuse(`StorageClass ${storageClass.metadata?.name} is not served by ${provisionerName}`);
  }
  if (claim.spec?.selector) return refuse('claim Selector is not supported');
  if (claim.spec?.dataSource || claim.spec?.dataSourceRef) {
    return refuse('a claim with a dataSource (clone, snapshot, populator) is not supported by this node');
  }
  if (claim.spec?.volumeMode === 'Block') {
    return refuse('volumeMode Block is not supported: a VCH volume is a filesystem');
  }
  const supported = accessModesOf[inputs.driver];
  const modes = claim.spec?.accessModes ?? [];
  const unsupported = modes.filter((m) => !supported.includes(m));
  if (unsupported.length || modes.length === 0) {
    return refuse(
      `access mode${unsupported.length === 1 ? '' : 's'} ${unsupported.join(', ') || '(none)'} not supported ` +
        `by the VCH's ${inputs.driver} volume driver (supported: ${supported.join(', ')})`,
    );
  }
  const store = storeOf(storageClass);
  if (!inputs.stores.includes(store)) {
    return refuse(
      `volume store "${store}" (StorageClass parameter ${storeParameter}) is not one of this node's ` +
        `volume stores: ${inputs.stores.join(', ')} (vic-kubelet --volume-store)`,
    );
  }
  let size: number | undefined;
  try {
    size = requestedBytes(claim);
  } catch (err) {
    return refuse(err instanceof Error ? err.message : String(err));
  }
  if (size === undefined) return refuse('claim has no resources.requests.storage');
  const reclaim = storageClass.reclaimPolicy === 'Retain' ? 'Retain' : 'Delete';
  const volume: StoreVolumeSpec = {
    name: volumeNameOf(meta.uid ?? ''),
    store,
    sizeBytes: Math.ceil(size),
    reclaim,
    owner: key,
    ownerUid: meta.uid ?? '',
  };
  return { kind: 'provision', volume, pv: persistentVolumeFor({ claim, storageClass, volume, nodeName }) };
}

/** A bound claim: only an expansion is left to decide. */
function decideBound(inputs: ClaimInputs): ClaimDecision {
  const pv = inputs.boundVolume;
  if (!pv || pv.metadata?.annotations?.[Ann.provisionedBy] !== provisionerName) {
    return { kind: 'ignore', why: 'claim is bound' };
  }
  if (pv.metadata?.labels?.[pvNodeLabel] !== inputs.nodeName) return { kind: 'ignore', why: 'another node' };
  let wanted: number | undefined;
  let has: number | undefined;
  try {
    wanted = requestedBytes(inputs.claim);
    has = storageOf(pv);
  } catch {
    return { kind: 'ignore', why: 'unreadable size' };
  }
  if (wanted === undefined || has === undefined || wanted <= has || inputs.canResize) {
    return { kind: 'ignore', why: 'claim is bound' };
  }
  return {
    kind: 'refuseResize',
    message:
      `resize volume "${pv.metadata?.name}" from ${has} to ${wanted} bytes refused: the VCH's ` +
      `${inputs.driver} volume driver cannot grow a volume`,
  };
}

/**
 * The PV of a provisioned claim: pre-bound to it by claimRef (the PV controller completes the
 * binding), the claim's class and modes, the store volume as its handle, the reclaim policy of the
 * class, and node affinity pinning it to this node (the scheduler checks it against the node's
 * `kubernetes.io/hostname` label before it binds the pod).
 */
export function persistentVolumeFor(options: {
  claim: V1PersistentVolumeClaim;
  storageClass: V1StorageClass;
  volume: StoreVolumeSpec;
  nodeName: string;
}): V1PersistentVolume {
  const { claim, storageClass, volume, nodeName } = options;
  const meta = claim.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: volume.name,
      labels: { [pvNodeLabel]: nodeName },
      annotations: { [Ann.provisionedBy]: provisionerName },
    },
    spec: {
      capacity: { storage: String(volume.sizeBytes) },
      accessModes: claim.spec?.accessModes ?? [],
      persistentVolumeReclaimPolicy: volume.reclaim,
      storageClassName: storageClass.metadata?.name ?? '',
      volumeMode: 'Filesystem',
      ...(storageClass.mountOptions?.length ? { mountOptions: storageClass.mountOptions } : {}),
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: meta.namespace ?? '',
        name: meta.name ?? '',
        uid: meta.uid ?? '',
        ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      csi: {
        driver: volumeDriverName,
        volumeHandle: volume.name,
        volumeAttributes: { [storeParameter]: volume.store },
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] },
          ],
        },
      },
    },
  };
}

export type VolumeDecision = { kind: 'keep'; why: string } | { kind: 'delete'; volumeName: string };

/** A PV of this node that its claim released, with reclaim policy Delete, goes with its VCH volume. */
export function decideVolume(pv: V1PersistentVolume, nodeName: string): VolumeDecision {
  if (pv.metadata?.annotations?.[Ann.provisionedBy] !== provisionerName) {
    return { kind: 'keep', why: 'not provisioned by vic-kubelet' };
  }
  if (pv.metadata?.labels?.[pvNodeLabel] !== nodeName) return { kind: 'keep', why: 'another node' };
  // Deleted already (by this node a moment ago, or by an operator): an orphan VCH volume with reclaim
  // Delete is found by the provisioner's orphan pass once the PV is gone.
  if (pv.metadata?.deletionTimestamp) return { kind: 'keep', why: 'being deleted' };
  if (pv.status?.phase !== 'Released') return { kind: 'keep', why: `phase ${pv.status?.phase ?? 'none'}` };
  if (pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') {
    return { kind: 'keep', why: `reclaim policy ${pv.spec?.persistentVolumeReclaimPolicy}` };
  }
  return { kind: 'delete', volumeName: pv.spec?.csi?.volumeHandle ?? pv.metadata?.name ?? '' };
}
