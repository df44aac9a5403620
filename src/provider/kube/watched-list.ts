// A list-and-watch of one collection path (optionally narrowed by a field selector) kept in memory:
// client-node's ListWatch, which stops on an error, restarted with back-off, and a `ready` that says
// whether the first list succeeded (it may be refused, e.g. by an RBAC without list/watch).
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
  let listed = false;
  let stopped = false;
  let restarting = false;
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  const lw = new ListWatch<T>(
    spec.path,
    new Watch(spec.kubeConfig),
    async () => {
      const result = await spec.list();
      listed = true;
      backoff.reset();
      return result;
    },
    false,
    undefined,
    spec.fieldSelector,
  );
  const restart = async (err: unknown): Promise<void> => {
    // Before the first list, `ready` answers false and the caller reads without the watch.
    if (stopped || restarting || !listed) return;
    restarting = true;
    const wait = backoff.next();
    spec.logger.warn({ path: spec.path, err: messageOf(err), retryInMs: wait }, 'watch failed; restarting');
    await delay(wait);
    restarting = false;
    if (stopped) return;
    await lw.start().catch((e: unknown) => restart(e));
  };
  lw.on('error', (err: unknown) => void restart(err));
  const ready = lw.start().then(
    () => listed,
    () => false,
  );
  return {
    ready,
    get: (name, namespace) => lw.get(name, namespace),
    list: (namespace) => [...lw.list(namespace)],
    stop() {
      stopped = true;
      void lw.stop();
    },
  };
}
