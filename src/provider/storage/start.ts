// Puts the node's storage together: the provisioner with its caches of claims, PVs and
// StorageClasses, and the claims view the pod controller mounts from (the same caches).
import type { CoreV1Api, KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.js';
import type { Vch } from '../../vch/index.js';
import { NodeClaims, type PodClaims } from './claim-volumes.js';
import { Provisioner } from './provisioner.js';
import { StorageEventRecorder } from './storage-events.js';

export interface NodeStorage {
  provisioner: Provisioner;
  claims: PodClaims;
}

export function startStorage(options: {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  storage: StorageV1Api;
  vch: Pick<Vch, 'volumeStore'>;
  nodeName: string;
  stores: readonly string[];
  logger: Logger;
}): NodeStorage {
  const { core, vch, nodeName, logger } = options;
  const provisioner = new Provisioner({
    core,
    store: vch.volumeStore,
    nodeName,
    stores: options.stores,
    events: new StorageEventRecorder({ api: core, nodeName, logger }),
    logger,
  });
  const caches = provisioner.watch(options.kubeConfig, options.storage);
  const claims = new NodeClaims({
    claims: caches.claims,
    volumes: caches.volumes,
    users: (volume) => vch.volumeStore.users(volume),
    nodeName,
  });
  return { provisioner, claims };
}
