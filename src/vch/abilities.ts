// What the VCH is and what it can do, as a first-class fact: read from its identity (/version,
// /info) and API version, checked by harmless probes where identity says nothing, and overridable
// by the operator. The pod layout follows from it.
import { call, statusCodeOf, type VchClient } from './client.js';
import { layoutLimits, type LayoutLimits, type PodLayoutName } from './layout/limits.js';

export type VchProduct = 'vic' | 'docker' | 'unknown';

export interface VchIdentity {
  product: VchProduct;
  /** What the engine calls itself, e.g. "vSphere Integrated Containers v1.5.6 Backend Engine". */
  name: string;
  version: string;
  apiVersion: string;
}

export interface VchAbilities {
  /** Containers can join another container's network/IPC namespace (`container:<id>`). */
  sharedNamespaces: boolean;
  /** `docker exec`. */
  exec: boolean;
  /** Resizing a TTY of a container or exec session. */
  resize: boolean;
  /** `docker stats`. */
  stats: boolean;
  /** The /events stream. */
  events: boolean;
  /** Named volumes (`docker volume create`). */
  namedVolumes: boolean;
  /** `docker cp`-style archives (GET/PUT /containers/{id}/archive). */
  archives: boolean;
}

export const abilityNames: readonly (keyof VchAbilities)[] = [
  'sharedNamespaces',
  'exec',
  'resize',
  'stats',
  'events',
  'namedVolumes',
  'archives',
];

export type LayoutChoice = PodLayoutName | 'auto';

export interface ProfileOverrides {
  layout?: LayoutChoice;
  abilities?: Partial<VchAbilities>;
}

/** Everything the rest of vic-kubelet needs to know of the VCH, as plain data. */
export interface VchProfile {
  identity: VchIdentity;
  abilities: VchAbilities;
  layout: PodLayoutName;
  limits: LayoutLimits;
  /** Which abilities (and the layout) the operator set rather than detection. */
  overridden: string[];
}

/** The fields of /info and /version that say what the engine is. */
export interface IdentitySource {
  info: {
    ID?: string;
    Driver?: string;
    ServerVersion?: string;
    OperatingSystem?: string;
    SystemStatus?: [string, string][] | null;
  };
  version: { Version?: string; ApiVersion?: string; Components?: { Name?: string }[] | null };
}

// vmware/vic cmd/docker/main.go: productName; /info reports it as ID, and the storage driver as
// "<product> [<version>] Backend Engine" (lib/apiservers/engine/backends/backends.go, system.go).
export const VIC_PRODUCT_NAME = 'vSphere Integrated Containers';

export function identify(source: IdentitySource): VchIdentity {
  const { info, version } = source;
  const apiVersion = version.ApiVersion ?? '';
  const vic = info.ID === VIC_PRODUCT_NAME || (info.Driver ?? '').includes(VIC_PRODUCT_NAME);
  if (vic) {
    return {
      product: 'vic',
      name: info.Driver || VIC_PRODUCT_NAME,
      version: (info.ServerVersion ?? version.Version ?? '').replace(/^v/, ''),
      apiVersion,
    };
  }
  const engine = version.Components?.some((c) => c.Name === 'Engine') ?? false;
  return {
    product: engine || info.Driver ? 'docker' : 'unknown',
    name: engine ? 'Docker Engine' : info.Driver || 'unknown engine',
    version: version.Version ?? info.ServerVersion ?? '',
    apiVersion,
  };
}

/** Compares dotted versions numerically: "1.10" is after "1.9". */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string) => v.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const a = parts(version);
  const b = parts(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Answers to the harmless probes: undefined where a probe was not run. */
export interface ProbeResults {
  namedVolumes?: boolean;
  events?: boolean;
}

/**
 * Abilities from identity and API version. A VIC VCH never shares namespaces (each container is a
 * VM); exec and `docker cp` came with VIC 1.2; named volumes need a volume store, which /info lists.
 * A Docker engine of API 1.25 or later has every ability used here. Probes settle what identity
 * leaves open.
 */
export function abilitiesOf(
  identity: VchIdentity,
  source: IdentitySource,
  probes: ProbeResults,
): VchAbilities {
  if (identity.product === 'vic') {
    const stores = (source.info.SystemStatus ?? []).find(([k]) => k.trim() === 'VolumeStores')?.[1] ?? '';
    const newer = versionAtLeast(identity.version, '1.2');
    return {
      sharedNamespaces: false,
      exec: newer,
      resize: true,
      stats: true,
      events: probes.events ?? true,
      namedVolumes: probes.namedVolumes ?? stores.trim() !== '',
      archives: newer,
    };
  }
  const modern = versionAtLeast(identity.apiVersion || '0', '1.25');
  return {
    sharedNamespaces: modern,
    exec: true,
    resize: true,
    stats: true,
    events: probes.events ?? true,
    namedVolumes: probes.namedVolumes ?? modern,
    archives: modern,
  };
}

export function chooseLayout(abilities: VchAbilities, choice: LayoutChoice = 'auto'): PodLayoutName {
  if (choice !== 'auto') return choice;
  return abilities.sharedNamespaces ? 'shared' : 'vm-per-pod';
}

export function buildProfile(
  source: IdentitySource,
  probes: ProbeResults,
  overrides: ProfileOverrides = {},
): VchProfile {
  const identity = identify(source);
  const detected = abilitiesOf(identity, source, probes);
  const set = Object.fromEntries(
    Object.entries(overrides.abilities ?? {}).filter(([, v]) => v !== undefined),
  ) as Partial<VchAbilities>;
  const abilities = { ...detected, ...set };
  const layout = chooseLayout(abilities, overrides.layout);
  const overridden = Object.keys(set);
  if (overrides.layout && overrides.layout !== 'auto') overridden.push('layout');
  overridden.sort();
  return { identity, abilities, layout, limits: layoutLimits(layout), overridden };
}

const PROBE_TIMEOUT_MS = 3000;

/** Harmless probes: a volume list, and an event stream that ends at once (since = until = now). */
export async function probe(client: VchClient): Promise<ProbeResults> {
  const results: ProbeResults = {};
  const answered = async (fn: () => Promise<unknown>): Promise<boolean | undefined> => {
    try {
      await fn();
      return true;
    } catch (err) {
      const status = statusCodeOf(err);
      // No such route, or "not implemented": the engine lacks it. Anything else says nothing.
      if (status === 404 || status === 501) return false;
      return undefined;
    }
  };
  results.namedVolumes = await answered(() => client.docker.listVolumes());
  const now = Math.floor(Date.now() / 1000);
  results.events = await answered(async () => {
    const stream = (await client.docker.getEvents({ since: now, until: now })) as NodeJS.ReadableStream & {
      destroy(): void;
    };
    stream.resume();
    // An engine that ignores `until` would keep it open: the answer was the headers, not the end.
    const timer = setTimeout(() => stream.destroy(), PROBE_TIMEOUT_MS);
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    clearTimeout(timer);
  });
  return Object.fromEntries(Object.entries(results).filter(([, v]) => v !== undefined));
}

/** Reads what the VCH is, probes what identity leaves open, and applies the operator's overrides. */
export async function detectProfile(
  client: VchClient,
  overrides: ProfileOverrides = {},
): Promise<VchProfile> {
  const [info, version] = await Promise.all([
    call(client, 'read VCH info', () => client.docker.info() as Promise<IdentitySource['info']>),
    call(client, 'read VCH version', () => client.docker.version() as Promise<IdentitySource['version']>),
  ]);
  const probes = await probe(client);
  return buildProfile({ info, version }, probes, overrides);
}

/** A one-line summary for the log and the Node annotation. */
export function profileSummary(profile: VchProfile): Record<string, unknown> {
  return {
    product: profile.identity.product,
    name: profile.identity.name,
    version: profile.identity.version,
    apiVersion: profile.identity.apiVersion,
    layout: profile.layout,
    abilities: profile.abilities,
    ...(profile.overridden.length ? { overridden: profile.overridden } : {}),
  };
}
