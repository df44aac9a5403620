// Facts about the VCH and its health, for the Node object: capacity, system info, reachability.
// Only what the VCH (or, for an engine on this machine, the machine itself) says: a fact nobody
// measured stays undefined or empty, never a made-up value that looks real.
import { readFile, statfs } from 'node:fs/promises';
import { VIC_PRODUCT_NAME } from './abilities.js';
import { call, ping, type VchClient } from './client.js';

export interface HostFacts {
  /** The engine's own unique ID: stable across restarts of vic-kubelet, reported as machine ID. */
  machineId: string;
  /** The hardware's UUID, when the engine runs on this machine and it can be read; else empty. */
  systemUuid: string;
  /** The kernel's boot ID, when the engine runs on this machine; else empty: nothing remote says it. */
  bootId: string;
  hostname: string;
  cpus: number;
  memoryBytes: number;
  /** Size of the filesystem holding the engine's data; undefined when the VCH does not tell. */
  storageBytes?: number;
  /** What is left of it; undefined unless measured on this machine. */
  storageAvailableBytes?: number;
  operatingSystem: string;
  osType: string;
  kernelVersion: string;
  architecture: string;
  engineVersion: string;
  apiVersion: string;
  /** Containers on the whole VCH, ours or not. */
  containers: number;
  images: number;
}

export interface HostHealth {
  reachable: boolean;
  /** Why not, when not: a message for the Node condition. */
  message?: string;
  latencyMs?: number;
}

export interface DockerInfo {
  ID?: string;
  Name?: string;
  NCPU?: number;
  MemTotal?: number;
  OperatingSystem?: string;
  OSType?: string;
  KernelVersion?: string;
  Architecture?: string;
  ServerVersion?: string;
  Containers?: number;
  Images?: number;
  DockerRootDir?: string;
  DriverStatus?: Array<[string, string]> | null;
  SystemStatus?: Array<[string, string]> | null;
}

// Docker reports `uname -m`; Kubernetes speaks GOARCH.
const goArch: Record<string, string> = {
  x86_64: 'amd64',
  aarch64: 'arm64',
  armv7l: 'arm',
  i686: '386',
  i386: '386',
};

/** What this machine can say about itself, used only when the engine is reached over a local socket. */
export interface LocalMachine {
  filesystem(path: string): Promise<{ sizeBytes: number; availableBytes: number } | undefined>;
  bootId(): Promise<string>;
  systemUuid(): Promise<string>;
}

const readTrimmed = (path: string): Promise<string> =>
  readFile(path, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );

export const thisMachine: LocalMachine = {
  async filesystem(path) {
    try {
      const fs = await statfs(path);
      return { sizeBytes: fs.blocks * fs.bsize, availableBytes: fs.bavail * fs.bsize };
    } catch {
      return undefined;
    }
  },
  // The same files a kubelet reads (cadvisor's machine info).
  bootId: () => readTrimmed('/proc/sys/kernel/random/boot_id'),
  systemUuid: () => readTrimmed('/sys/class/dmi/id/product_uuid'),
};

/** A unix socket endpoint: the engine shares this machine's kernel and filesystems. */
export function isLocalEndpoint(endpoint: string): boolean {
  return endpoint.startsWith('unix://') || endpoint.startsWith('/');
}

const units: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const binaryUnits: Record<string, number> = {
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
  pi: 2 ** 50,
};

/** Docker's human sizes ("107.4 GB", "20 GiB", "1.5TB"); undefined for anything else. */
export function parseHumanSize(text: string): number | undefined {
  const match = /^\s*([\d.]+)\s*([kmgtp]i?)?b?\s*$/i.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit.endsWith('i') ? binaryUnits[unit] : units[unit];
  if (!Number.isFinite(value) || factor === undefined) return undefined;
  return Math.round(value * factor);
}

// Engines that know their storage size say it in DriverStatus or SystemStatus: devicemapper's
// "Data Space Total", a VIC VCH's storage limit. overlay2 says nothing of size.
const storageKeys = /^(data space total|.*storage (limit|capacity|total))$/i;

/** The storage size an engine states in /info, if it states one. */
export function statedStorageBytes(info: DockerInfo): number | undefined {
  for (const [key, value] of [...(info.DriverStatus ?? []), ...(info.SystemStatus ?? [])]) {
    if (storageKeys.test(key.trim())) {
      const bytes = parseHumanSize(value);
      if (bytes !== undefined && bytes > 0) return bytes;
    }
  }
  return undefined;
}

// vmware/vic lib/apiservers/engine/backends/system.go SystemInfo: a VIC VCH reports its resource pool's
// CPU limit in MHz as NCPU, and again in SystemStatus as " VCH CPU limit" = "<n> MHz".
const vicCpuLimitKey = 'VCH CPU limit';
/**
 * MHz per CPU when a VCH states its CPU as a frequency: one vCPU per GHz, as virtual-kubelet's own VIC
 * provider counted it (providers/vic/utils/units.go CpuFrequencyToCores, "Assume 1G per Core").
 */
export const VIC_MHZ_PER_CPU = 1000;

/** A VIC VCH's CPU limit in MHz, from SystemStatus, else NCPU (which VIC fills with the same MHz). */
export function vicCpuMhz(info: DockerInfo): number | undefined {
  const stated = (info.SystemStatus ?? []).find(([k]) => k.trim() === vicCpuLimitKey)?.[1];
  const match = stated ? /^\s*(\d+(?:\.\d+)?)\s*MHz\s*$/i.exec(stated) : null;
  if (match) return Number(match[1]);
  return info.NCPU && info.NCPU > 0 ? info.NCPU : undefined;
}

/**
 * CPUs as Kubernetes counts them. A Docker engine's NCPU is a count; a VIC VCH's is a MHz limit
 * (thousands), turned into whole vCPUs, never fewer than one when there is any limit.
 */
export function cpuCount(info: DockerInfo): number {
  if (info.ID !== VIC_PRODUCT_NAME) return info.NCPU ?? 0;
  const mhz = vicCpuMhz(info);
  return mhz === undefined ? 0 : Math.max(1, Math.floor(mhz / VIC_MHZ_PER_CPU));
}

export async function hostFacts(client: VchClient, local: LocalMachine = thisMachine): Promise<HostFacts> {
  const [info, version] = await Promise.all([
    call(client, 'read VCH info', () => client.docker.info() as Promise<DockerInfo>),
    call(client, 'read VCH version', () => client.docker.version()),
  ]);
  const arch = info.Architecture ?? version.Arch ?? '';
  const onThisMachine = isLocalEndpoint(client.endpoint);
  const measured =
    onThisMachine && info.DockerRootDir ? await local.filesystem(info.DockerRootDir) : undefined;
  const storageBytes = statedStorageBytes(info) ?? measured?.sizeBytes;
  const [bootId, systemUuid] = onThisMachine
    ? await Promise.all([local.bootId(), local.systemUuid()])
    : ['', ''];
  return {
    // VIC's ID is its product name, the same for every VCH: not a machine's ID.
    machineId: info.ID === VIC_PRODUCT_NAME ? '' : (info.ID ?? ''),
    systemUuid,
    bootId,
    hostname: info.Name ?? '',
    cpus: cpuCount(info),
    memoryBytes: info.MemTotal ?? 0,
    ...(storageBytes !== undefined ? { storageBytes } : {}),
    ...(measured ? { storageAvailableBytes: measured.availableBytes } : {}),
    operatingSystem: info.OperatingSystem ?? '',
    // A VIC VCH reports the vSphere host's OS type ("vmnix-x86", vmware/vic lib/portlayer/exec/exec.go)
    // as OSType; its containers' OS is /version's Os. A Node's kubernetes.io/os wants the latter.
    osType:
      [info.OSType, version.Os].find((os) => os === 'linux' || os === 'windows') ??
      info.OSType ??
      version.Os ??
      '',
    kernelVersion: info.KernelVersion ?? version.KernelVersion ?? '',
    architecture: goArch[arch] ?? arch,
    engineVersion: info.ServerVersion ?? version.Version ?? '',
    apiVersion: version.ApiVersion ?? '',
    containers: info.Containers ?? 0,
    images: info.Images ?? 0,
  };
}

/** A ping within timeoutMs; never throws, the answer says what a Node condition needs. */
export async function hostHealth(client: VchClient, timeoutMs = 5000): Promise<HostHealth> {
  const started = performance.now();
  try {
    await ping(client, timeoutMs);
    return { reachable: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { reachable: false, message: err instanceof Error ? err.message : String(err) };
  }
}
