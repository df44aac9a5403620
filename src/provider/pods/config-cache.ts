// The ConfigMaps and Secrets pods refer to, each watched on its own and shared by every pod that reads
// it, as the kubelet's default change detection (Watch: pkg/kubelet/util/manager/watch_based_manager.go,
// one watch per referenced object, by field selector on its name). A pod's first read of an object
// lists and watches it; every later read, by any pod and by every volume resync, is answered from
// memory, and a change arrives through the watch. The watch ends when no pod refers to the object.
// Where list/watch is refused (deploy/rbac.yaml grants only get on Secrets, so that the node cannot
// enumerate them), reads of that kind fall back to one GET each, and no more watch of it is tried.
import type { CoreV1Api, KubeConfig, KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { isNotFound } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { callApi } from '../kube/api-errors.js';
import { watchList, type WatchedList, type WatchedListSpec } from '../kube/watched-list.js';
import type { ConfigSources } from './config-sources.js';

type Kind = 'configmap' | 'secret';

interface Entry {
  users: Set<string>;
  watched: WatchedList<KubernetesObject>;
}

export interface ConfigCacheOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  logger: Logger;
  /** How a watch is made (unit tests give a fake). */
  watch?: (spec: WatchedListSpec<KubernetesObject>) => WatchedList<KubernetesObject>;
}

export class ConfigCache {
  readonly #o: ConfigCacheOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  /** Kinds whose first list failed: read with a GET from then on. */
  readonly #refused = new Set<Kind>();

  constructor(options: ConfigCacheOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'config-cache' });
  }

  /** The sources one pod reads through: each object it reads is kept watched until release(uid). */
  sources(uid: string): ConfigSources {
    return {
      configMap: (namespace, name) => this.#read<V1ConfigMap>({ kind: 'configmap', namespace, name, uid }),
      secret: (namespace, name) => this.#read<V1Secret>({ kind: 'secret', namespace, name, uid }),
    };
  }

  /** The pod is gone: the objects no other pod reads are no longer watched. */
  release(uid: string): void {
    for (const key of [...this.#entries.keys()]) this.#unuse(key, uid);
  }

  /** How many objects are watched (for tests). */
  get watched(): number {
    return this.#entries.size;
  }

  stop(): void {
    for (const entry of this.#entries.values()) entry.watched.stop();
    this.#entries.clear();
  }

  async #read<T extends KubernetesObject>(ref: {
    kind: Kind;
    namespace: string;
    name: string;
    uid: string;
  }): Promise<T | undefined> {
    const { kind, namespace, name, uid } = ref;
    if (this.#refused.has(kind)) return this.#get<T>(kind, namespace, name);
    const key = `${kind}/${namespace}/${name}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { users: new Set(), watched: this.#watch(kind, namespace, name) };
      this.#entries.set(key, entry);
    }
    entry.users.add(uid);
    if (await entry.watched.ready) return entry.watched.get(name, namespace) as T | undefined;
    if (!this.#refused.has(kind)) {
      this.#refused.add(kind);
      this.#log.info({ kind }, 'cannot list and watch this kind; reading each object with a GET');
    }
    this.#unuse(key, uid);
    return this.#get<T>(kind, namespace, name);
  }

  /** The pod no longer reads the object: its watch stops when no pod does. */
  #unuse(key: string, uid: string): void {
    const entry = this.#entries.get(key);
    if (!entry || !entry.users.delete(uid) || entry.users.size > 0) return;
    entry.watched.stop();
    this.#entries.delete(key);
  }

  #watch(kind: Kind, namespace: string, name: string): WatchedList<KubernetesObject> {
    const { core } = this.#o;
    const fieldSelector = `metadata.name=${name}`;
    const spec: WatchedListSpec<KubernetesObject> = {
      kubeConfig: this.#o.kubeConfig,
      path: `/api/v1/namespaces/${namespace}/${kind === 'configmap' ? 'configmaps' : 'secrets'}`,
      fieldSelector,
      logger: this.#log,
      list: () =>
        kind === 'configmap'
          ? core.listNamespacedConfigMap({ namespace, fieldSelector })
          : core.listNamespacedSecret({ namespace, fieldSelector }),
    };
    return (this.#o.watch ?? watchList)(spec);
  }

  async #get<T>(kind: Kind, namespace: string, name: string): Promise<T | undefined> {
    const { core } = this.#o;
    try {
      return (await callApi(`read ${kind} ${namespace}/${name}`, () =>
        kind === 'configmap'
          ? core.readNamespacedConfigMap({ name, namespace })
          : core.readNamespacedSecret({ name, namespace }),
      )) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
