// A pod's persistentVolumeClaim volumes as the node mounts them: claim -> bound PV -> the VCH store
// volume behind it, with the kubelet's words when that chain is not complete yet (its volume manager's
// desired-state populator, pkg/kubelet/volumemanager/populator/desired_state_of_world_populator.go).
// And who may mount a volume: on a VCH a ReadWriteOnce volume is a disk that one pod VM holds at a
// time, so a second pod waits until the first is gone, told so with the attach/detach controller's
// Multi-Attach words (pkg/controller/volume/attachdetach/reconciler/reconciler.go).
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { VolumeUser } from '../../vch/index.js';
import type { ObjectReader } from '../kube/object-cache.js';
import { pvNodeLabel, volumeDriverName } from './names.js';

export type ClaimResolution =
  | {
      ok: true;
      /** Store volume by pod volume name. */
      sources: ReadonlyMap<string, string>;
      /** The store volumes only one pod may mount at a time, with their PV names. */
      exclusive: ReadonlyMap<string, string>;
    }
  | { ok: false; message: string };

export type Reservation = { ok: true } | { ok: false; message: string };

/** What the pod controller asks of the node's claims. */
export interface PodClaims {
  resolve(pod: V1Pod): ClaimResolution;
  /** Holds the pod's exclusive volumes for it, or says which pods hold one. */
  reserve(pod: V1Pod, exclusive: ReadonlyMap<string, string>, active: readonly V1Pod[]): Promise<Reservation>;
  /** The pod is gone from the node: what it held is free. */
  release(uid: string): void;
}

export function hasClaims(pod: V1Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim);
}

/** ReadWriteOnce and ReadWriteOncePod alone: one pod VM at a time. */
function isExclusive(pv: V1PersistentVolume): boolean {
  const modes = pv.spec?.accessModes ?? [];
  return !modes.includes('ReadWriteMany') && !modes.includes('ReadOnlyMany');
}

interface Holder {
  uid: string;
  namespace: string;
  name: string;
}

export class NodeClaims implements PodClaims {
  readonly #claims: ObjectReader<V1PersistentVolumeClaim>;
  readonly #volumes: ObjectReader<V1PersistentVolume>;
  readonly #users: (volume: string) => Promise<VolumeUser[]>;
  readonly #nodeName: string;
  readonly #held = new Map<string, Holder>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(options: {
    claims: ObjectReader<V1PersistentVolumeClaim>;
    volumes: ObjectReader<V1PersistentVolume>;
    /** The containers on the VCH that mount a volume. */
    users: (volume: string) => Promise<VolumeUser[]>;
    nodeName: string;
  }) {
    this.#claims = options.claims;
    this.#volumes = options.volumes;
    this.#users = options.users;
    this.#nodeName = options.nodeName;
  }

  resolve(pod: V1Pod): ClaimResolution {
    if (!this.#claims.synced || !this.#volumes.synced) {
      return { ok: false, message: 'the node has not listed claims and volumes from the API server yet' };
    }
    const namespace = pod.metadata?.namespace ?? '';
    const sources = new Map<string, string>();
    const exclusive = new Map<string, string>();
    const failed: Array<[string, string]> = [];
    for (const v of pod.spec?.volumes ?? []) {
      const claimName = v.persistentVolumeClaim?.claimName;
      if (claimName === undefined) continue;
      const found = this.#volumeOf(namespace, claimName);
      if (typeof found === 'string') {
        failed.push([v.name, `error processing PVC ${namespace}/${claimName}: ${found}`]);
        continue;
      }
      const handle = found.spec?.csi?.volumeHandle ?? '';
      sources.set(v.name, handle);
      if (isExclusive(found)) exclusive.set(handle, found.metadata?.name ?? '');
    }
    if (failed.length === 0) return { ok: true, sources, exclusive };
    // The kubelet's WaitForAttachAndMount error, with the populator's reasons after it.
    const names = failed.map(([name]) => name).sort();
    return {
      ok: false,
      message:
        `unmounted volumes=[${names.join(' ')}], unattached volumes=[], failed to process volumes=[${names.join(' ')}]: ` +
        failed.map(([, why]) => why).join('; '),
    };
  }

  reserve(
    pod: V1Pod,
    exclusive: ReadonlyMap<string, string>,
    active: readonly V1Pod[],
  ): Promise<Reservation> {
    // One reservation at a time: two pods asking at once must not both see the volume free.
    const next = this.#lock.then(() => this.#reserve(pod, exclusive, active));
    this.#lock = next.catch(() => undefined);
    return next;
  }

  release(uid: string): void {
    for (const [volume, holder] of this.#held) if (holder.uid === uid) this.#held.delete(volume);
  }

  async #reserve(
    pod: V1Pod,
    exclusive: ReadonlyMap<string, string>,
    active: readonly V1Pod[],
  ): Promise<Reservation> {
    const uid = pod.metadata?.uid ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const activeByUid = new Map(active.map((p) => [p.metadata?.uid ?? '', p]));
    for (const [volume, pvName] of exclusive) {
      const holders = new Map<string, Holder>();
      const held = this.#held.get(volume);
      if (held && held.uid !== uid && activeByUid.has(held.uid)) holders.set(held.uid, held);
      for (const user of await this.#users(volume)) {
        if (!user.podUid || user.podUid === uid) continue;
        const other = activeByUid.get(user.podUid);
        // A pod that is not active any more (finished) holds nothing; one unknown to the API server
        // holds the volume while its container still runs.
        if (other || user.state === 'running') {
          holders.set(user.podUid, {
            uid: user.podUid,
            namespace: other?.metadata?.namespace ?? user.podNamespace ?? '',
            name: other?.metadata?.name ?? user.podName ?? '',
          });
        }
      }
      if (holders.size)
        return { ok: false, message: multiAttachMessage(pvName, namespace, [...holders.values()]) };
    }
    for (const volume of exclusive.keys()) {
      this.#held.set(volume, { uid, namespace, name: pod.metadata?.name ?? '' });
    }
    return { ok: true };
  }

  /** The PV behind a claim, or the kubelet's reason why there is none to mount. */
  #volumeOf(namespace: string, claimName: string): V1PersistentVolume | string {
    const claim = this.#claims.get(claimName, namespace);
    if (!claim) {
      return `failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`;
    }
    if (claim.metadata?.deletionTimestamp) {
      return `can't start pod because PVC ${namespace}/${claimName} is being deleted`;
    }
    const volumeName = claim.spec?.volumeName ?? '';
    if (claim.status?.phase !== 'Bound' || !volumeName) {
      return (
        `PVC ${namespace}/${claimName} has non-bound phase ("${claim.status?.phase ?? ''}") ` +
        `or empty pvc.Spec.VolumeName ("${volumeName}")`
      );
    }
    const pv = this.#volumes.get(volumeName);
    if (!pv)
      return `failed to fetch PV ${volumeName} from API server: persistentvolumes "${volumeName}" not found`;
    const claimUid = claim.metadata?.uid ?? '';
    if (pv.spec?.claimRef?.uid !== claimUid) {
      return `found PV object "${volumeName}" but its pv.Spec.ClaimRef.UID ("${pv.spec?.claimRef?.uid ?? ''}") does not point to claim.UID ("${claimUid}")`;
    }
    if (pv.spec?.csi?.driver !== volumeDriverName || pv.metadata?.labels?.[pvNodeLabel] !== this.#nodeName) {
      return (
        `PV ${volumeName} is not a VCH volume of node ${this.#nodeName}: a virtual node mounts only the ` +
        `volumes its own provisioner made (StorageClass provisioner vic-kubelet.io/vch-volume)`
      );
    }
    return pv;
  }
}

/** The attach/detach controller's Multi-Attach event message (reconciler.go reportMultiAttachError). */
export function multiAttachMessage(pvName: string, namespace: string, holders: readonly Holder[]): string {
  const local = holders.filter((h) => h.namespace === namespace).map((h) => h.name);
  const elsewhere = holders.length - local.length;
  let why: string;
  if (local.length) {
    why = `Volume is already used by pod(s) ${local.join(', ')}`;
    if (elsewhere) why += ` and ${elsewhere} pod(s) in different namespaces`;
  } else why = `Volume is already used by ${elsewhere} pod(s) in different namespaces`;
  return `Multi-Attach error for volume "${pvName}" ${why}`;
}
