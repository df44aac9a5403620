// A list-and-watch cache of one kind of API object (claims, PVs, StorageClasses), restarted with
// back-off when its watch fails (client-node's ListWatch stops on an error), as pod-informer.ts does
// for pods.
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
  /** The watch path, e.g. /api/v1/persistentvolumes. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  logger: Logger;
  onChange: (object: T) => void;
}

/** What a reader of the cache needs: an object by name, all of them, and whether the first list came. */
export interface ObjectReader<T> {
  get(name: string, namespace?: string): T | undefined;
  list(): T[];
  readonly synced: boolean;
}

export class ObjectCache<T extends KubernetesObject> implements ObjectReader<T> {
  readonly #watch: ListWatch<T>;
  readonly #log: Logger;
  readonly #backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  #synced = false;
  #stopped = false;
  #restarting = false;

  constructor(options: ObjectCacheOptions<T>) {
    this.#log = options.logger.child({ component: 'object-cache', path: options.path });
    const list = async () => {
      const result = await options.list();
      this.#synced = true;
      this.#backoff.reset();
      return result;
    };
    this.#watch = new ListWatch<T>(options.path, new Watch(options.kubeConfig), list, false);
    this.#watch.on('add', options.onChange);
    this.#watch.on('update', options.onChange);
    this.#watch.on('delete', options.onChange);
    this.#watch.on('error', (err: unknown) => void this.#restart(err));
  }

  /** Lists and watches; a first list that fails (API server away, RBAC) is retried with back-off. */
  async start(): Promise<void> {
    try {
      await this.#watch.start();
    } catch (err) {
      void this.#restart(err);
    }
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

  list(): T[] {
    return [...this.#watch.list()];
  }

  async #restart(err: unknown): Promise<void> {
    if (this.#stopped || this.#restarting) return;
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
