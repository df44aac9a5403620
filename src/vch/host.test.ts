import test from 'ava';
import { silentLogger } from '../shared/logger.js';
import type { VchClient } from './client.js';
import { hostFacts, parseHumanSize, statedStorageBytes, type DockerInfo, type LocalMachine } from './host.js';

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
