// A list-and-watch cache of one collection of API objects (claims, PVs, StorageClasses, the
// ConfigMaps and Services pods read), restarted with back-off when its watch fails: client-node's
// ListWatch stops on an error. pod-informer.ts does the same for pods.
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { Backoff, delay } from '../../shared/backoff.js';
import { messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

export interface ObjectCacheOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** The collection's path, e.g. /api/v1/persistentvolumes or /api/v1/namespaces/ns/configmaps. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  /** Narrows the collection, e.g. `metadata.name=kube-root-ca.crt`. */
  fieldSelector?: string;
  logger: Logger;
  onChange?: (object: T) => void;
  /**
   * A first list that fails is retried with back-off (true, the default), or given up (false): the
   * caller then reads without the cache, as when an RBAC grants no list or watch.
   */
  retryFirstList?: boolean;
}

/** What a reader of the cache needs: an object by name, all of them, and whether the first list came. */
export interface ObjectReader<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
  readonly synced: boolean;
}

export class ObjectCache<T extends KubernetesObject> implements ObjectReader<T> {
  readonly #watch: ListWatch<T>;
  readonly #log: Logger;
  readonly #retryFirstList: boolean;
  readonly #backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  #synced = false;
  #firstError: unknown;
  #stopped = false;
  #restarting = false;

  constructor(options: ObjectCacheOptions<T>) {
    this.#log = options.logger.child({ component: 'object-cache', path: options.path });
    this.#retryFirstList = options.retryFirstList ?? true;
    const list = async () => {
      const result = await options.list();
      this.#synced = true;
      this.#backoff.reset();
      return result;
    };
    this.#watch = new ListWatch<T>(
      options.path,
      new Watch(options.kubeConfig),
      list,
      false,
      undefined,
      options.fieldSelector,
    );
    if (options.onChange) {
      this.#watch.on('add', options.onChange);
      this.#watch.on('update', options.onChange);
      this.#watch.on('delete', options.onChange);
    }
    this.#watch.on('error', (err: unknown) => void this.#restart(err));
  }

  /** Lists and watches; true once the first list came, false when it failed (see retryFirstList). */
  async start(): Promise<boolean> {
    try {
      await this.#watch.start();
    } catch (err) {
      if (!this.#synced) this.#firstError = err;
      void this.#restart(err);
    }
    return this.#synced;
  }

  /** Why the first list failed, when it did: for a caller that cannot go on without it. */
  get firstError(): unknown {
    return this.#firstError;
  }

  stop(): void {
    this.#stopped = true;
    void this.#watch.stop();
  }

  get synced(): boolean {
    return this.#synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#watch.get(name, namespace);
  }

  list(namespace?: string): T[] {
    return [...this.#watch.list(namespace)];
  }

  async #restart(err: unknown): Promise<void> {
    if (this.#stopped || this.#restarting) return;
    if (!this.#synced && !this.#retryFirstList) return;
    this.#restarting = true;
    const wait = this.#backoff.next();
    this.#log.warn({ err: messageOf(err), retryInMs: wait }, 'watch failed; restarting');
    await delay(wait);
    this.#restarting = false;
    if (this.#stopped) return;
    try {
      await this.#watch.start();
    } catch (e) {
      await this.#restart(e);
    }
  }
}
