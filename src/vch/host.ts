// Facts about the VCH and its health, for the Node object: capacity, system info, reachability.
import { call, ping, type VchClient } from './client.js';

export interface HostFacts {
  /** The engine's own unique ID: stable across restarts of vic-kubelet, reported as machine ID. */
  machineId: string;
  hostname: string;
  cpus: number;
  memoryBytes: number;
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

interface DockerInfo {
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
}

// Docker reports `uname -m`; Kubernetes speaks GOARCH.
const goArch: Record<string, string> = {
  x86_64: 'amd64',
  aarch64: 'arm64',
  armv7l: 'arm',
  i686: '386',
  i386: '386',
};

export async function hostFacts(client: VchClient): Promise<HostFacts> {
  const [info, version] = await Promise.all([
    call(client, 'read VCH info', () => client.docker.info() as Promise<DockerInfo>),
    call(client, 'read VCH version', () => client.docker.version()),
  ]);
  const arch = info.Architecture ?? version.Arch ?? '';
  return {
    machineId: info.ID ?? '',
    hostname: info.Name ?? '',
    cpus: info.NCPU ?? 0,
    memoryBytes: info.MemTotal ?? 0,
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
