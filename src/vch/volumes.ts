// A pod's volumes on the VCH: one named Docker volume per pod volume, labelled with node, pod and
// volume name (so they are found and removed with the pod VM, also after a restart), mounted into the
// sandbox at a fixed path so that content can be written over the Docker archive endpoint: the VCH
// may be remote, so nothing ever travels as a path on the vic-kubelet host.
import { createHash, randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { VicError } from '../shared/errors.js';
import { call, statusCodeOf, toVicError, type VchClient } from './client.js';
import { Label, LABEL_PREFIX, podFilter } from './labels.js';
import { isVirtualSandbox, podUidOfVirtualSandbox } from './list.js';
import { tarArchive, type TarEntry } from './tar.js';
import type { PodIdentity, PodVmSpec, PodVolumeSpec, VolumeFile } from './types.js';

export const volumeLabel = `${LABEL_PREFIX}volume-name`;

/** Where the sandbox mounts each pod volume: the archive endpoint writes there. */
export const SANDBOX_VOLUME_ROOT = '/.vic-kubelet/volumes';

export function sandboxVolumePath(volume: string): string {
  return `${SANDBOX_VOLUME_ROOT}/${volume}`;
}

/** The Docker volume name of a pod volume: unique per pod UID, readable by an operator. */
export function dockerVolumeName(uid: string, volume: string): string {
  return `k8s_vol_${volume}_${uid}`;
}

/** The Docker volume behind a pod volume: a store volume it was given, else the pod's own. */
export function podVolumeDockerName(spec: Pick<PodVmSpec, 'pod' | 'volumes'>, volume: string): string {
  return spec.volumes?.find((v) => v.name === volume)?.source ?? dockerVolumeName(spec.pod.uid, volume);
}

/** Docker local-driver options: a tmpfs for `medium: Memory`, a plain directory otherwise. */
export function volumeCreateOptions(
  nodeName: string,
  pod: PodIdentity,
  v: PodVolumeSpec,
): { Name: string; Driver: string; DriverOpts: Record<string, string>; Labels: Record<string, string> } {
  const opts: Record<string, string> = {};
  if (v.medium === 'memory') {
    // A tmpfs volume of the local driver is mounted once on the VCH and shared by every container
    // that mounts it (a container tmpfs would be private to one container). Mode as an emptyDir's.
    opts.type = 'tmpfs';
    opts.device = 'tmpfs';
    opts.o = ['mode=0777', ...(v.sizeBytes ? [`size=${v.sizeBytes}`] : [])].join(',');
  }
  return {
    Name: dockerVolumeName(pod.uid, v.name),
    Driver: 'local',
    DriverOpts: opts,
    Labels: {
      [Label.managed]: 'true',
      [Label.node]: nodeName,
      [Label.podNamespace]: pod.namespace,
      [Label.podName]: pod.name,
      [Label.podUid]: pod.uid,
      [volumeLabel]: v.name,
    },
  };
}

/**
 * The atomic-writer layout, the kubelet's (pkg/volume/util/atomic_writer.go) over the archive
 * endpoint. Visible names are symlinks `name -> ..data/name`; `..data` points at a snapshot
 * directory that holds the whole content. An update writes a complete new snapshot first, then
 * repoints `..data`, so a reader never sees half old, half new content.
 *
 * What the archive endpoint cannot do, and what this does instead:
 * - There is no rename. Docker's extraction (pkg/archive Unpack) replaces an existing symlink by
 *   remove-then-create, so during the swap `..data` is absent for the span of two syscalls: a reader
 *   at that instant gets ENOENT (then retries, as with any config reload), never mixed content. A
 *   rename would need a process in the pod VM (the sandbox image has no shell), so this is the
 *   closest the Docker API allows, and it holds on any VCH.
 * - There is no delete, but an entry of another type replaces what is there (a file entry removes a
 *   whole directory). So two snapshot slots alternate: the next write first turns the unused slot
 *   into a file (removing the old content), makes it a directory again and fills it; after the swap
 *   the superseded slot is turned into an empty file, so old secret values do not linger.
 * - A removed key's symlink cannot be deleted: it dangles (reads fail with ENOENT, as on a kubelet,
 *   where the name is gone).
 * - `..vic-state` is a dangling symlink whose target records the current slot and content hash, so
 *   that after a restart an unchanged volume is not rewritten.
 */
const SLOTS = ['..snapshot_a', '..snapshot_b'] as const;
const DATA = '..data';
const STATE = '..vic-state';

export interface VolumeWrites {
  sandboxId: string;
  /** A sandbox just created: nothing was written into its volumes yet, no state to read back. */
  fresh?: boolean;
  /**
   * Volume roots to set as a kubelet makes them: emptyDir roots, and a claim's root under fsGroup
   * (`source`: the store volume behind the claim).
   */
  roots?: ReadonlyArray<{ volume: string; gid?: number; mode?: number; source?: string }>;
  /** Content volumes (configMap, secret, downwardAPI, projected), written only when changed. */
  contents: ReadonlyArray<{ volume: string; files: readonly VolumeFile[]; gid?: number }>;
}

interface WrittenState {
  slot: (typeof SLOTS)[number];
  hash: string;
  names: Set<string>;
}

export function contentHash(files: readonly VolumeFile[], gid: number | undefined): string {
  const h = createHash('sha256');
  h.update(`gid=${gid ?? 0}\n`);
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(`${f.path}\0${f.mode}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return h.digest('hex').slice(0, 32);
}

function topLevelNames(files: readonly VolumeFile[]): Set<string> {
  return new Set(files.map((f) => f.path.split('/')[0] ?? f.path));
}

/**
 * The entries that fill `slot` of the volume `volume` with `files` and repoint its `..data` at it;
 * paths are relative to the sandbox's volume root (one archive can carry several volumes).
 */
export function snapshotEntries(options: {
  volume: string;
  slot: string;
  files: readonly VolumeFile[];
  hash: string;
  /** Top-level names whose symlink is already there and right. */
  linked: ReadonlySet<string>;
  gid?: number;
}): TarEntry[] {
  const { files, gid } = options;
  const at = (name: string) => `${options.volume}/${name}`;
  const slot = at(options.slot);
  const owner = gid !== undefined ? { gid } : {};
  const entries: TarEntry[] = [
    // A file entry removes whatever the slot held (even a whole directory), then it is made anew.
    { kind: 'file', path: slot, data: Buffer.alloc(0), mode: 0o644 },
    { kind: 'dir', path: slot, mode: 0o755, ...owner },
  ];
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      entries.push({ kind: 'dir', path: `${slot}/${dir}`, mode: 0o755, ...owner });
    }
    entries.push({ kind: 'file', path: `${slot}/${f.path}`, data: f.data, mode: f.mode, ...owner });
  }
  // Symlink targets stay relative to the volume: they resolve the same in every container.
  entries.push({ kind: 'symlink', path: at(DATA), target: options.slot });
  for (const name of topLevelNames(files)) {
    if (!options.linked.has(name))
      entries.push({ kind: 'symlink', path: at(name), target: `${DATA}/${name}` });
  }
  entries.push({ kind: 'symlink', path: at(STATE), target: `${options.slot}:${options.hash}` });
  return entries;
}

/**
 * The volume root as the kubelet leaves an emptyDir (and the emptyDir under a content volume):
 * mode 0777, setgid with the fsGroup. Docker's extraction skips the metadata of an archive's own
 * root ("."), so the entry is the volume's mount point, written from its parent.
 */
function rootEntry(volume: string, gid: number | undefined, mode = 0o777): TarEntry {
  return gid !== undefined
    ? { kind: 'dir', path: volume, mode: mode | 0o2000, gid }
    : { kind: 'dir', path: volume, mode };
}

/** Removes every volume of a pod on a node, found by label; removing nothing is fine. */
export async function removePodVolumes(client: VchClient, nodeName: string, uid: string): Promise<void> {
  const list = await call(client, `list volumes of pod ${uid}`, () =>
    client.docker.listVolumes({ filters: { label: podFilter(nodeName, uid) } }),
  );
  for (const v of list.Volumes ?? []) {
    try {
      await client.docker.getVolume(v.Name).remove({ force: true });
    } catch (err) {
      // 404: gone already; 409: still in use by a container being removed (the next pass retries).
      if (statusCodeOf(err) === 404) continue;
      throw toVicError(err, `remove volume ${v.Name}`, client.endpoint);
    }
  }
}

/**
 * The slot and content hash recorded in `..vic-state`'s target. Docker reports a link target resolved
 * to an absolute path in the container (`/.vic-kubelet/volumes/cfg/..snapshot_a:<hash>`): the last
 * element counts.
 */
export function parseState(linkTarget: string): { slot: (typeof SLOTS)[number]; hash: string } | undefined {
  const match = /(?:^|\/)(\.\.snapshot_[ab]):([0-9a-f]+)$/.exec(linkTarget);
  if (!match) return undefined;
  return { slot: match[1] as (typeof SLOTS)[number], hash: match[2] ?? '' };
}

export class PodVolumes {
  readonly #client: VchClient;
  readonly #nodeName: string;
  /** What was last written per sandbox and volume; lost on restart and then read back from `..vic-state`. */
  readonly #written = new Map<string, WrittenState>();

  /** The image of the vm-per-pod layout's short-lived volume writers (the sandbox image), made present. */
  readonly #writer: { image: string; ensure: (image: string) => Promise<unknown> } | undefined;

  constructor(
    client: VchClient,
    nodeName: string,
    writer?: { image: string; ensure: (image: string) => Promise<unknown> },
  ) {
    this.#client = client;
    this.#nodeName = nodeName;
    this.#writer = writer;
  }

  /** Creates the pod's Docker volumes that do not exist yet (creating an existing one is a no-op). */
  async ensure(pod: PodIdentity, volumes: readonly PodVolumeSpec[]): Promise<void> {
    for (const v of volumes) {
      // A store volume must be there already: Docker would make an empty one of that name on mount.
      if (v.source) {
        await call(this.#client, `inspect volume ${v.source} of pod volume ${v.name}`, () =>
          this.#client.docker.getVolume(v.source ?? '').inspect(),
        );
        continue;
      }
      const options = volumeCreateOptions(this.#nodeName, pod, v);
      await call(this.#client, `create volume ${options.Name}`, () =>
        this.#client.docker.createVolume(options),
      );
    }
  }

  /**
   * One pass over a pod's volumes in one archive: emptyDir roots, and every content volume whose
   * content changed since it was last written (a new snapshot, then `..data` repointed). A second,
   * small archive then empties the superseded slots. Returns the volumes whose content was written.
   */
  async write(w: VolumeWrites): Promise<string[]> {
    const entries: TarEntry[] = (w.roots ?? []).map((r) => rootEntry(r.volume, r.gid, r.mode));
    const stale: TarEntry[] = [];
    const written: Array<[string, WrittenState]> = [];
    for (const c of w.contents) {
      const key = `${w.sandboxId}/${c.volume}`;
      const hash = contentHash(c.files, c.gid);
      const previous =
        this.#written.get(key) ?? (w.fresh ? undefined : await this.#readState(w.sandboxId, c.volume));
      if (previous?.hash === hash) {
        this.#written.set(key, previous);
        continue;
      }
      const slot = previous?.slot === SLOTS[0] ? SLOTS[1] : SLOTS[0];
      if (!previous) entries.push(rootEntry(c.volume, c.gid));
      entries.push(
        ...snapshotEntries({
          volume: c.volume,
          slot,
          files: c.files,
          hash,
          linked: previous?.names ?? new Set(),
          ...(c.gid !== undefined ? { gid: c.gid } : {}),
        }),
      );
      if (previous && previous.slot !== slot) {
        stale.push({
          kind: 'file',
          path: `${c.volume}/${previous.slot}`,
          data: Buffer.alloc(0),
          mode: 0o644,
        });
      }
      // Names linked before stay linked (their symlinks dangle when the key went away).
      written.push([
        key,
        { slot, hash, names: new Set([...(previous?.names ?? []), ...topLevelNames(c.files)]) },
      ]);
    }
    const archives = [entries, stale].filter((e) => e.length).map((e) => tarArchive(e));
    if (archives.length) {
      await this.#through(w, async (containerId) => {
        for (const archive of archives) await this.#put(containerId, SANDBOX_VOLUME_ROOT, archive);
      });
    }
    for (const [key, state] of written) this.#written.set(key, state);
    return written.map(([key]) => key.slice(w.sandboxId.length + 1));
  }

  /** Forgets what was written into a sandbox's volumes (its pod VM is gone). */
  forget(sandboxId: string): void {
    for (const key of this.#written.keys()) if (key.startsWith(`${sandboxId}/`)) this.#written.delete(key);
  }

  /** Removes every volume of the pod on this node; removing nothing is fine. */
  remove(uid: string): Promise<void> {
    return removePodVolumes(this.#client, this.#nodeName, uid);
  }

  /**
   * Runs `write` against a container that mounts the pod's volumes: the sandbox, or in the vm-per-pod
   * layout (no sandbox container) a short-lived writer created for it, never started, and removed after:
   * the archive endpoint writes into a created container's volumes.
   */
  async #through(w: VolumeWrites, write: (containerId: string) => Promise<void>): Promise<void> {
    if (!isVirtualSandbox(w.sandboxId)) return write(w.sandboxId);
    const uid = podUidOfVirtualSandbox(w.sandboxId);
    // The Docker volume behind each pod volume written: a claim's store volume, else the pod's own.
    const sources = new Map(
      (w.roots ?? []).map((r) => [r.volume, r.source ?? dockerVolumeName(uid, r.volume)]),
    );
    for (const c of w.contents)
      if (!sources.has(c.volume)) sources.set(c.volume, dockerVolumeName(uid, c.volume));
    if (!this.#writer) throw new VicError('Internal', 'no volume writer image is configured for this VCH');
    const image = this.#writer.image;
    await this.#writer.ensure(image);
    const name = `vk-volume-writer-${uid}-${randomBytes(3).toString('hex')}`;
    const created = await call(this.#client, `create volume writer ${name}`, () =>
      this.#client.docker.createContainer({
        _query: { name },
        _body: {
          Image: image,
          // Never started; a VIC VCH still refuses a create without a command.
          Cmd: ['vic-kubelet-volume-writer'],
          Labels: { [Label.node]: this.#nodeName, [`${LABEL_PREFIX}volume-writer`]: uid },
          // Named volumes as Binds: the one volume form a VIC VCH reads.
          HostConfig: { Binds: [...sources].map(([v, source]) => `${source}:${sandboxVolumePath(v)}`) },
        },
      } as Docker.ContainerCreateOptions),
    );
    try {
      await write(created.id);
    } finally {
      await created.remove({ force: true, v: false }).catch(() => undefined);
    }
  }

  async #readState(sandboxId: string, volume: string): Promise<WrittenState | undefined> {
    // A writer lives only for one write: what it wrote is not read back (after a restart, written again).
    if (isVirtualSandbox(sandboxId)) return undefined;
    let stat: { linkTarget?: string } | undefined;
    try {
      const res = (await this.#client.docker
        .getContainer(sandboxId)
        .infoArchive({ path: `${sandboxVolumePath(volume)}/${STATE}` })) as {
        headers?: Record<string, string | undefined>;
        resume?: () => void;
      };
      res.resume?.();
      const header = res.headers?.['x-docker-container-path-stat'];
      if (header)
        stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { linkTarget?: string };
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw toVicError(err, `read state of volume ${volume}`, this.#client.endpoint);
    }
    const state = parseState(stat?.linkTarget ?? '');
    // The names linked before are unknown after a restart: they are linked again (same targets).
    return state ? { ...state, names: new Set() } : undefined;
  }

  async #put(sandboxId: string, path: string, archive: Buffer): Promise<void> {
    try {
      await this.#client.docker.getContainer(sandboxId).putArchive(archive, { path });
    } catch (err) {
      if (statusCodeOf(err) === 404) {
        throw new VicError('NotFound', `volume path ${path} or sandbox ${sandboxId} not found on the VCH`, {
          cause: err,
        });
      }
      throw toVicError(err, `write volume content at ${path}`, this.#client.endpoint);
    }
  }
}
