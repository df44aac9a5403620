// The pods bound to this node, kept current by a list-and-watch with a field selector on
// spec.nodeName (kube/object-cache.ts, which restarts the watch with back-off when it fails).
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.js';
import { ObjectCache } from '../kube/object-cache.js';

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

export class PodInformer {
  readonly #cache: ObjectCache<V1Pod>;

  constructor(options: {
    kubeConfig: KubeConfig;
    core: CoreV1Api;
    nodeName: string;
    logger: Logger;
    onChange: (key: string) => void;
  }) {
    const fieldSelector = `spec.nodeName=${options.nodeName}`;
    this.#cache = new ObjectCache<V1Pod>({
      kubeConfig: options.kubeConfig,
      path: '/api/v1/pods',
      list: () => options.core.listPodForAllNamespaces({ fieldSelector }),
      fieldSelector,
      logger: options.logger.child({ component: 'pod-informer' }),
      onChange: (pod) => options.onChange(podKey(pod)),
      // Without the node's pods nothing can be done: a first list that fails stops the start.
      retryFirstList: false,
    });
  }

  async start(): Promise<void> {
    if (!(await this.#cache.start())) throw this.#cache.firstError;
  }

  stop(): void {
    this.#cache.stop();
  }

  /** True once the first list has been seen: before that, "not in the cache" means nothing. */
  get synced(): boolean {
    return this.#cache.synced;
  }

  get(key: string): V1Pod | undefined {
    const slash = key.indexOf('/');
    return this.#cache.get(key.slice(slash + 1), key.slice(0, slash));
  }

  list(): V1Pod[] {
    return this.#cache.list();
  }
}
