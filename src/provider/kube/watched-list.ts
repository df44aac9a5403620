// The ConfigMaps and Services pods read, from a list-and-watch (object-cache.ts) whose first list
// may be refused (an RBAC without list/watch): `ready` says whether it came, and the caches read
// without the watch when it did not.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.js';
import { ObjectCache } from './object-cache.js';

/** What the caches read of a watched collection: a fake in unit tests. */
export interface WatchedList<T> {
  /** Resolves true once the first list arrived, false if it was refused or failed. */
  readonly ready: Promise<boolean>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
  stop(): void;
}

export interface WatchedListSpec<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** The collection, e.g. /api/v1/namespaces/ns/configmaps. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  fieldSelector?: string;
  logger: Logger;
}

export function watchList<T extends KubernetesObject>(spec: WatchedListSpec<T>): WatchedList<T> {
  const cache = new ObjectCache<T>({ ...spec, retryFirstList: false });
  return {
    ready: cache.start(),
    get: (name, namespace) => cache.get(name, namespace),
    list: (namespace) => cache.list(namespace),
    stop: () => cache.stop(),
  };
}
