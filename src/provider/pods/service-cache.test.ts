import test from 'ava';
import { KubeConfig, type CoreV1Api, type V1Service } from '@kubernetes/client-node';
import { createLogger } from '../../shared/logger.js';
import type { WatchedList } from '../kube/watched-list.js';
import { ServiceCache } from './service-cache.js';

const service = (namespace: string, name: string): V1Service => ({ metadata: { namespace, name } });

function cacheWith(ready: boolean) {
  const calls = { watches: 0, namespaceLists: 0 };
  const watched: WatchedList<V1Service> = {
    ready: Promise.resolve(ready),
    list: (namespace) => [service(namespace ?? '', 'watched')],
    get: () => undefined,
    stop: () => {},
  };
  const core = {
    listNamespacedService: ({ namespace }: { namespace: string }) => {
      calls.namespaceLists++;
      return Promise.resolve({ items: [service(namespace, 'listed')] });
    },
  } as unknown as CoreV1Api;
  const cache = new ServiceCache({
    kubeConfig: new KubeConfig(),
    core,
    logger: createLogger({ level: 'silent' }),
    watch: () => {
      calls.watches++;
      return watched;
    },
  });
  return { cache, calls };
}

test('start() begins the one watch before any pod reads; reads then use it', async (t) => {
  const { cache, calls } = cacheWith(true);
  cache.start();
  t.is(calls.watches, 1);
  const names = (await cache.sources().list('ns')).map((s) => s.metadata?.name);
  t.deepEqual(names, ['watched']);
  t.is(calls.watches, 1);
  t.is(calls.namespaceLists, 0);
});

test('a refused watch falls back to listing the namespace on each read', async (t) => {
  const { cache, calls } = cacheWith(false);
  const names = (await cache.sources().list('ns')).map((s) => s.metadata?.name);
  t.deepEqual(names, ['listed']);
  t.is(calls.watches, 1);
  t.is(calls.namespaceLists, 1);
});
