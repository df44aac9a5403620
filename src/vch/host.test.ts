import test from 'ava';
import { silentLogger } from '../shared/logger.js';
import type { VchClient } from './client.js';
import {
  cpuCount,
  hostFacts,
  parseHumanSize,
  statedStorageBytes,
  vicCpuMhz,
  type DockerInfo,
  type LocalMachine,
} from './host.js';

function client(endpoint: string, info: DockerInfo): VchClient {
  const docker = {
    info: async () => info,
    version: async () => ({ ApiVersion: '1.41', Arch: 'amd64', Os: 'linux' }),
  };
  return { docker, endpoint, logger: silentLogger } as unknown as VchClient;
}

const machine: LocalMachine = {
  filesystem: async (path) =>
    path === '/var/lib/docker' ? { sizeBytes: 50e9, availableBytes: 20e9 } : undefined,
  bootId: async () => 'boot-1',
  systemUuid: async () => 'uuid-1',
};

const overlay: DockerInfo = {
  ID: 'engine-id',
  NCPU: 2,
  MemTotal: 4e9,
  DockerRootDir: '/var/lib/docker',
  DriverStatus: [
    ['Backing Filesystem', 'extfs'],
    ['Supports d_type', 'true'],
  ],
};

test('an engine on this machine: storage is the size of its data root, boot ID and UUID the machine’s', async (t) => {
  const facts = await hostFacts(client('unix:///run/docker.sock', overlay), machine);
  t.is(facts.storageBytes, 50e9);
  t.is(facts.storageAvailableBytes, 20e9);
  t.is(facts.machineId, 'engine-id');
  t.is(facts.bootId, 'boot-1');
  t.is(facts.systemUuid, 'uuid-1');
  t.not(facts.bootId, facts.machineId);
});

test('a remote engine that states no size: storage, boot ID and system UUID stay unknown', async (t) => {
  const facts = await hostFacts(client('tcp://vch.example:2376', overlay), machine);
  t.is(facts.storageBytes, undefined);
  t.is(facts.storageAvailableBytes, undefined);
  t.is(facts.bootId, '');
  t.is(facts.systemUuid, '');
  t.is(facts.machineId, 'engine-id');
});

test('a remote engine that states its storage size in /info reports that', async (t) => {
  const facts = await hostFacts(
    client('tcp://vch.example:2376', {
      ...overlay,
      DriverStatus: [['Data Space Total', '107.4 GB']],
    }),
    machine,
  );
  t.is(facts.storageBytes, 107.4e9);
});

test('stated sizes read as Docker writes them; unknown words are not sizes', (t) => {
  t.is(parseHumanSize('20 GiB'), 20 * 2 ** 30);
  t.is(parseHumanSize('1.5TB'), 1.5e12);
  t.is(parseHumanSize('512'), 512);
  t.is(parseHumanSize('lots'), undefined);
  t.is(statedStorageBytes({ SystemStatus: [['VCH storage limit', '10 GB']] }), 10e9);
  t.is(statedStorageBytes({ DriverStatus: null }), undefined);
});

// /info as a VIC 1.5 VCH answers it (vmware/vic lib/apiservers/engine/backends/system.go SystemInfo):
// ID is the product name, NCPU the resource pool's CPU limit in MHz (stated again in SystemStatus),
// MemTotal its memory limit, OSType the ESX host's.
const vicInfo: DockerInfo = {
  ID: 'vSphere Integrated Containers',
  Name: 'vch-1',
  NCPU: 4800,
  MemTotal: 8192 * 2 ** 20,
  OperatingSystem: 'vmnix-x86',
  OSType: 'vmnix-x86',
  KernelVersion: '',
  Architecture: 'x86_64',
  ServerVersion: 'v1.5.6',
  DockerRootDir: '',
  DriverStatus: null,
  SystemStatus: [
    ['VolumeStores', 'default'],
    ['vSphere Integrated Containers v1.5.6 Backend Engine', 'RUNNING'],
    [' VCH CPU limit', '4800 MHz'],
    [' VCH memory limit', '8 GiB'],
    [' VCH CPU usage', '217 MHz'],
    [' VCH memory usage', '1.2 GiB'],
    [' VMware Product', 'VMware ESXi'],
    [' VMware OS', 'vmnix-x86'],
    [' VMware OS version', '6.7.0'],
  ],
};

test('a VIC VCH: NCPU is a MHz limit, reported as whole vCPUs (one per GHz), not 4800 CPUs', async (t) => {
  const facts = await hostFacts(client('tcp://vch.example:2376', vicInfo), machine);
  t.is(facts.cpus, 4);
  t.is(facts.memoryBytes, 8192 * 2 ** 20);
  t.is(facts.machineId, '', 'the product name is not a machine ID');
});

test('a VIC VCH: the MHz limit is read from SystemStatus, else from NCPU; a small limit is still one vCPU', (t) => {
  t.is(cpuCount({ ...vicInfo, SystemStatus: [[' VCH CPU limit', '2600 MHz']], NCPU: 9999 }), 2);
  t.is(cpuCount({ ...vicInfo, SystemStatus: [], NCPU: 3000 }), 3);
  t.is(cpuCount({ ...vicInfo, SystemStatus: [[' VCH CPU limit', '700 MHz']] }), 1);
  t.is(cpuCount({ ...vicInfo, SystemStatus: [], NCPU: 0 }), 0);
  t.is(vicCpuMhz(vicInfo), 4800);
});

test('a Docker engine: NCPU is a count, taken as it is', (t) => {
  t.is(cpuCount(overlay), 2);
});
