// Named volumes on the VCH's volume stores that outlive pods (the provider makes persistent volumes of
// them). Each carries labels that say which node made it, under which name and for what, so that a
// restart finds every one again from the VCH alone; creating one is keyed by its name, so a repeated
// create never makes a second. Plain data only: nothing here knows what a claim or a PV is.
import { call, callOrUndefined, statusCodeOf, toVicError, type VchClient } from './client.js';
import { Label, LABEL_PREFIX } from './labels.js';
import { VicError } from '../shared/errors.js';

export const StoreLabel = {
  /** The key the volume was made for (the provider's persistent volume name); its Docker name too. */
  key: `${LABEL_PREFIX}store-volume`,
  store: `${LABEL_PREFIX}volume-store`,
  /** The size asked for, in bytes: kept even where the driver takes no size (the local driver). */
  requestedBytes: `${LABEL_PREFIX}requested-bytes`,
  /** Whether the volume goes when its owner releases it (Delete) or stays (Retain). */
  reclaim: `${LABEL_PREFIX}reclaim`,
  /** Who it was made for, as the provider names it (for an operator reading `docker volume ls`). */
  owner: `${LABEL_PREFIX}owner`,
  ownerUid: `${LABEL_PREFIX}owner-uid`,
} as const;

/** The volume drivers vic-kubelet knows: VIC's (`vsphere`, sized, per store) and Docker's `local`. */
export type StoreDriver = 'vsphere' | 'local';

export interface StoreVolumeSpec {
  /** The Docker volume name, unique on the VCH. */
  name: string;
  store: string;
  sizeBytes: number;
  reclaim: 'Delete' | 'Retain';
  /** Who it is for, e.g. `namespace/claim`, and that owner's UID. */
  owner: string;
  ownerUid: string;
}

export interface StoreVolume extends StoreVolumeSpec {
  driver: string;
  createdAt?: Date;
}

/** A container that mounts a store volume, with the pod it belongs to (from its labels). */
export interface VolumeUser {
  containerId: string;
  state: string;
  podUid?: string;
  podNamespace?: string;
  podName?: string;
}

/**
 * The driver options of a store volume. VIC's driver takes the store and a capacity
 * (`docker volume create --opt VolumeStore=<store> --opt Capacity=<size>`, vmware/vic
 * lib/apiservers/engine/backends/volume.go); the local driver takes neither (one store: the engine's).
 */
export function storeDriverOptions(driver: StoreDriver, spec: StoreVolumeSpec): Record<string, string> {
  if (driver === 'local') return {};
  // Decimal megabytes rounded up: never less than asked for.
  return { VolumeStore: spec.store, Capacity: `${Math.max(1, Math.ceil(spec.sizeBytes / 1e6))}MB` };
}

export function storeLabels(nodeName: string, spec: StoreVolumeSpec): Record<string, string> {
  return {
    [Label.managed]: 'true',
    [Label.node]: nodeName,
    [StoreLabel.key]: spec.name,
    [StoreLabel.store]: spec.store,
    [StoreLabel.requestedBytes]: String(spec.sizeBytes),
    [StoreLabel.reclaim]: spec.reclaim,
    [StoreLabel.owner]: spec.owner,
    [StoreLabel.ownerUid]: spec.ownerUid,
  };
}

interface DockerVolume {
  Name: string;
  Driver: string;
  Labels?: Record<string, string> | null;
  CreatedAt?: string;
}

/** A Docker volume read back as a store volume; undefined when its labels are not a store volume's. */
export function parseStoreVolume(v: DockerVolume): StoreVolume | undefined {
  const labels = v.Labels ?? {};
  if (labels[Label.managed] !== 'true' || labels[StoreLabel.key] !== v.Name) return undefined;
  const size = Number(labels[StoreLabel.requestedBytes] ?? '0');
  const created = v.CreatedAt ? new Date(v.CreatedAt) : undefined;
  return {
    name: v.Name,
    driver: v.Driver,
    store: labels[StoreLabel.store] ?? '',
    sizeBytes: Number.isFinite(size) ? size : 0,
    reclaim: labels[StoreLabel.reclaim] === 'Retain' ? 'Retain' : 'Delete',
    owner: labels[StoreLabel.owner] ?? '',
    ownerUid: labels[StoreLabel.ownerUid] ?? '',
    ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
  };
}

export class VolumeStore {
  readonly #client: VchClient;
  readonly #nodeName: string;
  readonly #driver: () => Promise<StoreDriver>;

  constructor(client: VchClient, nodeName: string, driver: () => Promise<StoreDriver>) {
    this.#client = client;
    this.#nodeName = nodeName;
    this.#driver = driver;
  }

  /** Whether the VCH's driver can grow a volume in place: neither VIC's nor the local driver can. */
  canResize(): boolean {
    return false;
  }

  /** The driver volumes are made with on this VCH. */
  driver(): Promise<StoreDriver> {
    return this.#driver();
  }

  /**
   * Makes the volume, or finds it made already (by an earlier pass, before a restart). A volume of
   * that name that this node did not make for the same owner is a conflict, never taken over.
   */
  async create(spec: StoreVolumeSpec): Promise<StoreVolume> {
    const existing = await this.inspect(spec.name);
    if (existing) return this.#checkOwn(existing, spec);
    const driver = await this.#driver();
    await call(this.#client, `create volume ${spec.name}`, () =>
      this.#client.docker.createVolume({
        Name: spec.name,
        Driver: driver,
        DriverOpts: storeDriverOptions(driver, spec),
        Labels: storeLabels(this.#nodeName, spec),
      }),
    );
    const made = await this.inspect(spec.name);
    if (!made) throw new VicError('Internal', `volume ${spec.name} was created but cannot be read back`);
    return this.#checkOwn(made, spec);
  }

  /** The store volume of that name made by this node; undefined when there is none. */
  async inspect(name: string): Promise<StoreVolume | undefined> {
    const v = await callOrUndefined(this.#client, `inspect volume ${name}`, () =>
      this.#client.docker.getVolume(name).inspect(),
    );
    if (!v) return undefined;
    const parsed = parseStoreVolume(v);
    if (!parsed) {
      throw new VicError('Conflict', `volume ${name} exists on the VCH but was not made by vic-kubelet`);
    }
    return parsed;
  }

  /** Every store volume this node made. */
  async list(): Promise<StoreVolume[]> {
    const res = await call(this.#client, 'list store volumes', () =>
      this.#client.docker.listVolumes({
        filters: { label: [`${Label.managed}=true`, `${Label.node}=${this.#nodeName}`, StoreLabel.key] },
      }),
    );
    return (res.Volumes ?? []).flatMap((v) => {
      const parsed = parseStoreVolume(v);
      return parsed ? [parsed] : [];
    });
  }

  /** Removes the volume; gone already is fine. A volume still mounted by a container is a Conflict. */
  async remove(name: string): Promise<void> {
    try {
      await this.#client.docker.getVolume(name).remove();
    } catch (err) {
      if (statusCodeOf(err) === 404) return;
      throw toVicError(err, `remove volume ${name}`, this.#client.endpoint);
    }
  }

  /** The containers (any state) that mount the volume. */
  async users(name: string): Promise<VolumeUser[]> {
    const list = await call(this.#client, `list containers using volume ${name}`, () =>
      this.#client.docker.listContainers({ all: true, filters: { volume: [name] } }),
    );
    return list.map((c) => {
      const labels = c.Labels ?? {};
      const uid = labels[Label.podUid];
      const ns = labels[Label.podNamespace];
      const pod = labels[Label.podName];
      return {
        containerId: c.Id,
        state: c.State,
        ...(uid ? { podUid: uid } : {}),
        ...(ns ? { podNamespace: ns } : {}),
        ...(pod ? { podName: pod } : {}),
      };
    });
  }

  #checkOwn(v: StoreVolume, spec: StoreVolumeSpec): StoreVolume {
    if (v.ownerUid !== spec.ownerUid) {
      throw new VicError(
        'Conflict',
        `volume ${spec.name} exists on the VCH for another owner (${v.owner}, uid ${v.ownerUid})`,
      );
    }
    return v;
  }
}
