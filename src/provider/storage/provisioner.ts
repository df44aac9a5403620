// The StorageClass provisioner each vic-kubelet serves for its own node: claims the scheduler
// selected for this node become VCH store volumes and PVs pinned to it; released PVs with reclaim
// Delete go with their volumes. Cache events only enqueue keys; reconcile(key) decides afresh from the
// API objects and the VCH (decisions.ts), so it is safe to repeat and safe after a restart: the volume
// and the PV are both named after the claim's UID, and creating either again finds the first.
import type {
  CoreV1Api,
  KubeConfig,
  StorageV1Api,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1StorageClass,
} from '@kubernetes/client-node';
import { Backoff } from '../../shared/backoff.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { isConflict, isNotFound, messageOf, VicError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { StoreDriver, StoreVolume, StoreVolumeSpec } from '../../vch/index.js';
import { callApi } from '../kube/api-errors.js';
import { WorkQueue } from '../pods/work-queue.js';
import { decideClaim, decideVolume } from './decisions.js';
import { volumeNameOf } from './names.js';
import { ObjectCache, type ObjectReader } from '../kube/object-cache.js';
import type { StorageEvents } from './storage-events.js';

/** The VCH side the provisioner needs (src/vch VolumeStore). */
export interface StoreApi {
  create(spec: StoreVolumeSpec): Promise<StoreVolume>;
  remove(name: string): Promise<void>;
  list(): Promise<StoreVolume[]>;
  driver(): Promise<StoreDriver>;
  canResize(): boolean;
}

export interface StorageCaches {
  claims: ObjectReader<V1PersistentVolumeClaim>;
  volumes: ObjectReader<V1PersistentVolume>;
  classes: ObjectReader<V1StorageClass>;
}

export interface ProvisionerOptions {
  core: CoreV1Api;
  store: StoreApi;
  nodeName: string;
  /** The node's volume stores (`--volume-store`). */
  stores: readonly string[];
  events: StorageEvents;
  logger: Logger;
  clock?: Clock;
  /** How often every claim and PV is looked at again, as a safety net. */
  resyncMs?: number;
}

const claimPrefix = 'claim/';
const volumePrefix = 'pv/';
const orphansKey = 'orphans';

function claimKey(namespace: string | undefined, name: string | undefined): string {
  return `${claimPrefix}${namespace}/${name}`;
}

export class Provisioner {
  readonly #o: ProvisionerOptions;
  readonly #queue: WorkQueue;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #backoffs = new Map<string, Backoff>();
  #caches: StorageCaches | undefined;
  #started: Array<{ start(): Promise<unknown>; stop(): void }> = [];
  #resync: { cancel(): void } | undefined;

  constructor(options: ProvisionerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#queue = new WorkQueue({ clock: this.#clock });
    this.#log = options.logger.child({ component: 'provisioner' });
  }

  /** Watches claims, PVs and StorageClasses through the API server. */
  watch(kubeConfig: KubeConfig, storage: StorageV1Api): StorageCaches {
    const { core, logger } = this.#o;
    const claims = new ObjectCache<V1PersistentVolumeClaim>({
      kubeConfig,
      path: '/api/v1/persistentvolumeclaims',
      list: () => core.listPersistentVolumeClaimForAllNamespaces(),
      logger,
      onChange: (c) => this.#queue.add(claimKey(c.metadata?.namespace, c.metadata?.name)),
    });
    const volumes = new ObjectCache<V1PersistentVolume>({
      kubeConfig,
      path: '/api/v1/persistentvolumes',
      list: () => core.listPersistentVolume(),
      logger,
      onChange: (pv) => {
        this.#queue.add(`${volumePrefix}${pv.metadata?.name}`);
        const ref = pv.spec?.claimRef;
        if (ref) this.#queue.add(claimKey(ref.namespace, ref.name));
      },
    });
    const classes = new ObjectCache<V1StorageClass>({
      kubeConfig,
      path: '/apis/storage.k8s.io/v1/storageclasses',
      list: () => storage.listStorageClass(),
      logger,
      onChange: () => undefined,
    });
    this.#started = [classes, volumes, claims];
    this.#caches = { claims, volumes, classes };
    return this.#caches;
  }

  /** Uses caches filled by someone else (unit tests). */
  useCaches(caches: StorageCaches): void {
    this.#caches = caches;
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const cache of this.#started) await cache.start();
    signal.addEventListener('abort', () => this.stop(), { once: true });
    this.resyncAll();
    await this.#queue.run((key) => this.#handle(key), 4);
  }

  stop(): void {
    this.#resync?.cancel();
    for (const cache of this.#started) cache.stop();
    this.#queue.shutDown();
  }

  /** Every claim and PV, and the orphan check, once more; then again after the resync period. */
  resyncAll(): void {
    const caches = this.#caches;
    if (!caches) return;
    for (const c of caches.claims.list()) this.#queue.add(claimKey(c.metadata?.namespace, c.metadata?.name));
    for (const pv of caches.volumes.list()) this.#queue.add(`${volumePrefix}${pv.metadata?.name}`);
    this.#queue.add(orphansKey);
    this.#resync = this.#clock.setTimeout(() => this.resyncAll(), this.#o.resyncMs ?? 60_000);
  }

  /** One pass over a key; failures come back with back-off. */
  async reconcile(key: string): Promise<void> {
    if (key.startsWith(claimPrefix)) {
      const [namespace = '', name = ''] = key.slice(claimPrefix.length).split('/');
      return this.#reconcileClaim(namespace, name);
    }
    if (key.startsWith(volumePrefix)) return this.#reconcileVolume(key.slice(volumePrefix.length));
    if (key === orphansKey) return this.#removeOrphans();
  }

  async #handle(key: string): Promise<void> {
    try {
      await this.reconcile(key);
      this.#backoffs.delete(key);
    } catch (err) {
      const backoff = this.#backoffs.get(key) ?? new Backoff({ initialMs: 1000, maxMs: 60_000 });
      this.#backoffs.set(key, backoff);
      const wait = backoff.next();
      this.#log.warn({ key, err: messageOf(err), retryInMs: wait }, 'storage reconcile failed; retrying');
      this.#queue.addAfter(key, wait);
    }
  }

  #ready(): StorageCaches | undefined {
    const c = this.#caches;
    if (!c || !c.claims.synced || !c.volumes.synced || !c.classes.synced) return undefined;
    return c;
  }

  async #reconcileClaim(namespace: string, name: string): Promise<void> {
    const caches = this.#ready();
    if (!caches) throw new VicError('Conflict', 'storage caches not synced yet');
    const claim = caches.claims.get(name, namespace);
    if (!claim) return;
    // Provisioned already: the PV controller has yet to complete the binding (its PV event woke us).
    const uid = claim.metadata?.uid ?? '';
    if (!claim.spec?.volumeName && caches.volumes.get(volumeNameOf(uid))?.spec?.claimRef?.uid === uid) return;
    const className = claim.spec?.storageClassName ?? '';
    const storageClass = className ? caches.classes.get(className) : undefined;
    const boundName = claim.spec?.volumeName;
    const boundVolume = boundName ? caches.volumes.get(boundName) : undefined;
    const decision = decideClaim({
      claim,
      storageClass,
      nodeName: this.#o.nodeName,
      stores: this.#o.stores,
      driver: await this.#o.store.driver(),
      canResize: this.#o.store.canResize(),
      ...(boundVolume ? { boundVolume } : {}),
    });
    const subject = { ...claim, kind: 'PersistentVolumeClaim' as const };
    const events = this.#o.events;
    switch (decision.kind) {
      case 'ignore':
        return;
      case 'refuse':
        events.record(subject, {
          type: 'Warning',
          reason: 'ProvisioningFailed',
          message: `failed to provision volume with StorageClass "${className}": ${decision.message}`,
        });
        return;
      case 'refuseResize':
        events.record(subject, { type: 'Warning', reason: 'VolumeResizeFailed', message: decision.message });
        return;
      case 'provision': {
        events.record(subject, {
          type: 'Normal',
          reason: 'Provisioning',
          message: `External provisioner is provisioning volume for claim "${namespace}/${name}"`,
        });
        try {
          await this.#o.store.create(decision.volume);
          await this.#createVolumeObject(decision.pv, claim.metadata?.uid ?? '');
        } catch (err) {
          events.record(subject, {
            type: 'Warning',
            reason: 'ProvisioningFailed',
            message: `failed to provision volume with StorageClass "${className}": ${messageOf(err)}`,
          });
          throw err;
        }
        events.record(subject, {
          type: 'Normal',
          reason: 'ProvisioningSucceeded',
          message: `Successfully provisioned volume ${decision.pv.metadata?.name}`,
        });
        this.#log.info(
          { claim: `${namespace}/${name}`, volume: decision.volume.name, store: decision.volume.store },
          'volume provisioned',
        );
      }
    }
  }

  /** Creates the PV; one there already for the same claim (an earlier pass) is the same PV. */
  async #createVolumeObject(pv: V1PersistentVolume, claimUid: string): Promise<void> {
    const name = pv.metadata?.name ?? '';
    try {
      await callApi(`create PV ${name}`, () => this.#o.core.createPersistentVolume({ body: pv }));
    } catch (err) {
      if (!isConflict(err)) throw err;
      const existing = await callApi(`read PV ${name}`, () => this.#o.core.readPersistentVolume({ name }));
      if (existing.spec?.claimRef?.uid !== claimUid) {
        throw new VicError('Conflict', `PV ${name} exists and is bound to another claim`, { cause: err });
      }
    }
  }

  async #reconcileVolume(name: string): Promise<void> {
    const caches = this.#ready();
    if (!caches) throw new VicError('Conflict', 'storage caches not synced yet');
    const pv = caches.volumes.get(name);
    if (!pv) return;
    const decision = decideVolume(pv, this.#o.nodeName);
    if (decision.kind === 'keep') return;
    try {
      await this.#o.store.remove(decision.volumeName);
    } catch (err) {
      this.#o.events.record(
        { ...pv, kind: 'PersistentVolume' },
        {
          type: 'Warning',
          reason: 'VolumeFailedDelete',
          message: `delete volume ${decision.volumeName} on the VCH: ${messageOf(err)}`,
        },
      );
      throw err;
    }
    try {
      await callApi(`delete PV ${name}`, () => this.#o.core.deletePersistentVolume({ name }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#log.info({ pv: name, volume: decision.volumeName }, 'released volume deleted');
  }

  /**
   * Store volumes of this node with reclaim Delete whose PV was never made (or is gone) and whose
   * claim no longer exists: a crash between creating the volume and its PV, then the claim deleted.
   * Retain volumes stay whatever happened to their PV: that is what Retain means.
   */
  async #removeOrphans(): Promise<void> {
    const caches = this.#ready();
    if (!caches) throw new VicError('Conflict', 'storage caches not synced yet');
    const claimUids = new Set(caches.claims.list().map((c) => c.metadata?.uid));
    for (const v of await this.#o.store.list()) {
      if (v.reclaim !== 'Delete' || caches.volumes.get(v.name) || claimUids.has(v.ownerUid)) continue;
      this.#log.info({ volume: v.name, owner: v.owner }, 'removing store volume whose claim and PV are gone');
      await this.#o.store.remove(v.name);
    }
  }
}
