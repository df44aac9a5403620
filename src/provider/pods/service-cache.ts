// Every Service of the cluster, list-and-watched once, for the service link variables of every pod:
// the kubelet reads them from a service informer too (pkg/kubelet/kubelet.go serviceLister), so a
// container's environment costs the API server nothing. Started with the pod controller, as the
// kubelet starts its reflector at start-up: a node's one list and watch, not charged to its first pod.
// Where list/watch is refused, each read falls back to one list of the namespace.
import type { CoreV1Api, KubeConfig, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.js';
import { callApi } from '../kube/api-errors.js';
import { watchList, type WatchedList, type WatchedListSpec } from '../kube/watched-list.js';
import type { ServiceSources } from './service-env.js';

export interface ServiceCacheOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  logger: Logger;
  /** host:port of the API server as pod VMs reach it (--kubernetes-service-address). */
  kubernetesAddress?: { host: string; port: number };
  watch?: (spec: WatchedListSpec<V1Service>) => WatchedList<V1Service>;
}

export class ServiceCache {
  readonly #o: ServiceCacheOptions;
  #watched: WatchedList<V1Service> | undefined;

  constructor(options: ServiceCacheOptions) {
    this.#o = options;
  }

  sources(): ServiceSources {
    const address = this.#o.kubernetesAddress;
    return { list: (namespace) => this.#list(namespace), ...(address ? { kubernetesAddress: address } : {}) };
  }

  /** Starts the list and watch (else the first read does). */
  start(): void {
    this.#watchedList();
  }

  #watchedList(): WatchedList<V1Service> {
    return (this.#watched ??= (this.#o.watch ?? watchList)({
      kubeConfig: this.#o.kubeConfig,
      path: '/api/v1/services',
      logger: this.#o.logger.child({ component: 'service-cache' }),
      list: () => this.#o.core.listServiceForAllNamespaces({}),
    }));
  }

  stop(): void {
    this.#watched?.stop();
    this.#watched = undefined;
  }

  async #list(namespace: string): Promise<V1Service[]> {
    const watched = this.#watchedList();
    if (await watched.ready) return watched.list(namespace);
    const listed = await callApi(`list services in ${namespace}`, () =>
      this.#o.core.listNamespacedService({ namespace }),
    );
    return listed.items;
  }
}
