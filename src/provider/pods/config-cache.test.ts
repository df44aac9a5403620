// ConfigCache and ServiceCache over fake watches: one watch per object shared by every pod that reads
// it, reads from memory after the first list, the watch stopped with its last pod, and one GET per
// read where list/watch is refused.
import test from 'ava';
import type {
  CoreV1Api,
  KubeConfig,
  KubernetesObject,
  V1ConfigMap,
  V1Service,
} from '@kubernetes/client-node';
import { silentLogger } from '../../shared/logger.js';
import type { WatchedList, WatchedListSpec } from '../kube/watched-list.js';
import { ConfigCache } from './config-cache.js';
import { ServiceCache } from './service-cache.js';

interface FakeWatch<T> extends WatchedList<T> {
  spec: WatchedListSpec<KubernetesObject>;
  stopped: boolean;
  objects: T[];
}

function fakeWatches<T extends KubernetesObject>(options: { refuse?: boolean; objects: T[] }) {
  const made: FakeWatch<T>[] = [];
  const factory = (spec: WatchedListSpec<KubernetesObject>): WatchedList<T> => {
    const w: FakeWatch<T> = {
      spec,
      stopped: false,
      objects: options.objects,
      ready: Promise.resolve(!options.refuse),
      get: (name, namespace) =>
        w.objects.find((o) => o.metadata?.name === name && o.metadata?.namespace === namespace),
      list: (namespace) => w.objects.filter((o) => !namespace || o.metadata?.namespace === namespace),
      stop: () => {
        w.stopped = true;
      },
    };
    made.push(w);
    return w;
  };
  return { made, factory };
}

const rootCa: V1ConfigMap = {
  metadata: { name: 'kube-root-ca.crt', namespace: 'ns' },
  data: { 'ca.crt': 'PEM' },
};

function coreWith(gets: string[]): CoreV1Api {
  return {
    readNamespacedConfigMap: ({ name, namespace }: { name: string; namespace: string }) => {
      gets.push(`configmap ${namespace}/${name}`);
      return Promise.resolve(rootCa);
    },
    readNamespacedSecret: ({ name, namespace }: { name: string; namespace: string }) => {
      gets.push(`secret ${namespace}/${name}`);
      return Promise.resolve({ metadata: { name, namespace }, data: {} });
    },
    listNamespacedService: ({ namespace }: { namespace: string }) => {
      gets.push(`services ${namespace}`);
      return Promise.resolve({ items: [] });
    },
  } as unknown as CoreV1Api;
}

const kubeConfig = {} as KubeConfig;

test('every pod and every resync reads a ConfigMap from one watch of it, not with a request each', async (t) => {
  const gets: string[] = [];
  const watches = fakeWatches<KubernetesObject>({ objects: [rootCa] });
  const cache = new ConfigCache({
    kubeConfig,
    core: coreWith(gets),
    logger: silentLogger,
    watch: watches.factory,
  });
  for (const uid of ['a', 'b', 'c']) {
    for (let resync = 0; resync < 3; resync++) {
      const cm = await cache.sources(uid).configMap('ns', 'kube-root-ca.crt');
      t.is(cm?.data?.['ca.crt'], 'PEM');
    }
  }
  t.deepEqual(gets, []);
  t.is(watches.made.length, 1);
  t.is(watches.made[0]?.spec.path, '/api/v1/namespaces/ns/configmaps');
  t.is(watches.made[0]?.spec.fieldSelector, 'metadata.name=kube-root-ca.crt');
});

test('a missing object reads as undefined from the watch, and appears when the watch sees it', async (t) => {
  const watches = fakeWatches<KubernetesObject>({ objects: [] });
  const cache = new ConfigCache({
    kubeConfig,
    core: coreWith([]),
    logger: silentLogger,
    watch: watches.factory,
  });
  t.is(await cache.sources('a').configMap('ns', 'kube-root-ca.crt'), undefined);
  watches.made[0]!.objects.push(rootCa);
  t.is((await cache.sources('a').configMap('ns', 'kube-root-ca.crt'))?.data?.['ca.crt'], 'PEM');
});

test('the watch of an object stops when the last pod that read it is released', async (t) => {
  const watches = fakeWatches<KubernetesObject>({ objects: [rootCa] });
  const cache = new ConfigCache({
    kubeConfig,
    core: coreWith([]),
    logger: silentLogger,
    watch: watches.factory,
  });
  await cache.sources('a').configMap('ns', 'kube-root-ca.crt');
  await cache.sources('b').configMap('ns', 'kube-root-ca.crt');
  cache.release('a');
  t.false(watches.made[0]!.stopped, 'pod b still reads it');
  t.is(cache.watched, 1);
  cache.release('b');
  t.true(watches.made[0]!.stopped);
  t.is(cache.watched, 0);
});

test('where list/watch is refused, each read is one GET and no second watch is tried', async (t) => {
  const gets: string[] = [];
  const watches = fakeWatches<KubernetesObject>({ objects: [], refuse: true });
  const cache = new ConfigCache({
    kubeConfig,
    core: coreWith(gets),
    logger: silentLogger,
    watch: watches.factory,
  });
  await cache.sources('a').secret('ns', 's1');
  await cache.sources('a').secret('ns', 's2');
  await cache.sources('b').secret('ns', 's1');
  t.deepEqual(gets, ['secret ns/s1', 'secret ns/s2', 'secret ns/s1']);
  t.is(watches.made.length, 1, 'only the first read tried a watch');
  t.is(cache.watched, 0);
});

test('services for the link variables come from one watch of all services', async (t) => {
  const gets: string[] = [];
  const kubernetes: V1Service = {
    metadata: { name: 'kubernetes', namespace: 'default' },
    spec: { clusterIP: '10.0.0.1', ports: [{ port: 443 }] },
  };
  const watches = fakeWatches<V1Service>({ objects: [kubernetes] });
  const cache = new ServiceCache({
    kubeConfig,
    core: coreWith(gets),
    logger: silentLogger,
    watch: watches.factory,
  });
  for (let i = 0; i < 5; i++) t.deepEqual(await cache.sources().list('default'), [kubernetes]);
  t.deepEqual(await cache.sources().list('ns'), []);
  t.deepEqual(gets, []);
  t.is(watches.made.length, 1);
  t.is(watches.made[0]?.spec.path, '/api/v1/services');
});

test('services are listed per read where watching them is refused', async (t) => {
  const gets: string[] = [];
  const watches = fakeWatches<V1Service>({ objects: [], refuse: true });
  const cache = new ServiceCache({
    kubeConfig,
    core: coreWith(gets),
    logger: silentLogger,
    watch: watches.factory,
  });
  await cache.sources().list('default');
  await cache.sources().list('default');
  t.deepEqual(gets, ['services default', 'services default']);
});
