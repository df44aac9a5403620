// Who a container's process runs as: its uid, gid and every group it holds, worked out the way the
// engine worked them out when it started the process. Docker reports only the `User` string it was
// given (`name`, `uid`, `name:group`, `uid:gid`) and the extra groups (HostConfig.GroupAdd); the
// rest comes from the image's /etc/passwd and /etc/group, read over the archive endpoint.
//
// The resolution follows runc's libcontainer/user GetExecUser, which Docker uses: a user is looked
// up by name or uid; without an explicit group the process takes the passwd entry's gid and, when a
// passwd entry matched, the groups of /etc/group that list the user's name; an explicit group
// (`:gid` or `:name`) replaces both. GroupAdd is added last. The primary gid comes first in the list,
// as containerd reports `user.linux.supplementalGroups` to the kubelet (and as `id -G` prints).
import type { VchClient } from './client.js';
import { readContainerFile } from './container-file.js';
import type { ProcessIdentity } from './types.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^\d+$/;

/** What the engine was told of the process, and where its user and group files come from. */
export interface ProcessConfig {
  /** Config.User and HostConfig.GroupAdd. */
  user: string | undefined;
  groupAdd: readonly string[] | undefined;
  /** The image ID: containers of one image with the same user and groups share one answer. */
  image: string;
  /** A mount over /etc, /etc/passwd or /etc/group: this container's files are its own. */
  ownFiles: boolean;
}

const ETC_PATHS = new Set(['/etc', '/etc/passwd', '/etc/group']);

/** Whether a container's mounts cover the user and group files (inspect's Mounts destinations). */
export function mountsUserFiles(destinations: readonly string[]): boolean {
  return destinations.some((d) => ETC_PATHS.has(d.replace(/\/+$/, '')));
}

function parseColonFile<T>(text: string | undefined, parse: (fields: string[]) => T | undefined): T[] {
  const out: T[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const entry = parse(line.split(':'));
    if (entry) out.push(entry);
  }
  return out;
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return parseColonFile(text, (f) => {
    const [name, , uid, gid] = f;
    if (!name || !uid || !gid || !NUMERIC.test(uid) || !NUMERIC.test(gid)) return undefined;
    return { name, uid: Number(uid), gid: Number(gid) };
  });
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  return parseColonFile(text, (f) => {
    const [name, , gid, members] = f;
    if (!name || !gid || !NUMERIC.test(gid)) return undefined;
    return { name, gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) };
  });
}

/**
 * The identity of a process started with Config.User `user` and HostConfig.GroupAdd `groupAdd` in an
 * image with these passwd and group files; undefined when the engine could not have started it
 * (a user or group name the image does not know).
 */
export function resolveProcessIdentity(options: {
  user: string | undefined;
  groupAdd: readonly string[] | undefined;
  passwd: string | undefined;
  group: string | undefined;
}): ProcessIdentity | undefined {
  const users = parsePasswd(options.passwd);
  const groups = parseGroup(options.group);
  const [userPart = '', groupPart] = (options.user ?? '').split(':', 2);
  const userArg = userPart || '0';

  const matched = users.find(
    (u) => u.name === userArg || (NUMERIC.test(userArg) && u.uid === Number(userArg)),
  );
  if (!matched && !NUMERIC.test(userArg)) return undefined;
  const uid = matched?.uid ?? Number(userArg);

  const groupByArg = (arg: string): number | undefined =>
    NUMERIC.test(arg) ? Number(arg) : groups.find((g) => g.name === arg)?.gid;

  let gid = matched?.gid ?? 0;
  const held: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    const explicit = groupByArg(groupPart);
    if (explicit === undefined) return undefined;
    gid = explicit;
  } else if (matched) {
    for (const g of groups) if (g.members.includes(matched.name)) held.push(g.gid);
  }
  for (const extra of options.groupAdd ?? []) {
    const g = groupByArg(extra);
    if (g === undefined) return undefined;
    held.push(g);
  }
  return { uid, gid, supplementalGroups: [...new Set([gid, ...held])] };
}

// A process's identity never changes while its container lives, and is the same for every container
// of one image started with the same user and groups (unless a mount replaces the files).
const MAX_REMEMBERED = 10_000;
const IMAGE_FILE_MAX_BYTES = 256 * 1024;

/** Reads, once per image and user (or per container with its own files), who a process runs as. */
export class ProcessIdentities {
  readonly #client: VchClient;
  readonly #known = new Map<string, Promise<ProcessIdentity | undefined>>();
  readonly #enabled: () => boolean;

  /** `enabled`: false while the VCH serves no archives (nothing is read then). */
  constructor(client: VchClient, options: { enabled?: () => boolean } = {}) {
    this.#client = client;
    this.#enabled = options.enabled ?? (() => true);
  }

  /**
   * The identity of container `id`'s process, given (when its inspect answers) its config; undefined
   * when the container is gone or its image names a user or group it does not have.
   */
  async of(id: string, config: Promise<ProcessConfig | undefined>): Promise<ProcessIdentity | undefined> {
    if (!this.#enabled()) return undefined;
    const process = await config;
    if (!process) return undefined;
    const key = process.ownFiles
      ? `container:${id}`
      : `image:${process.image}:${process.user ?? ''}:${(process.groupAdd ?? []).join(',')}`;
    let found = this.#known.get(key);
    if (!found) {
      found = this.#read(id, process);
      // A failed read is tried again next time (the VCH may have been busy); an answer is kept.
      found.catch(() => this.#known.delete(key));
      if (this.#known.size >= MAX_REMEMBERED) {
        const oldest = this.#known.keys().next().value;
        if (oldest !== undefined) this.#known.delete(oldest);
      }
      this.#known.set(key, found);
    }
    return found;
  }

  async #read(id: string, process: ProcessConfig): Promise<ProcessIdentity | undefined> {
    // A file the image lacks (a scratch image) reads as undefined; any other failure rejects.
    const [passwd, group] = await Promise.all([
      readContainerFile(this.#client, id, '/etc/passwd', IMAGE_FILE_MAX_BYTES),
      readContainerFile(this.#client, id, '/etc/group', IMAGE_FILE_MAX_BYTES),
    ]);
    return resolveProcessIdentity({ user: process.user, groupAdd: process.groupAdd, passwd, group });
  }
}
