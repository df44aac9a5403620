// The pods bound to this node, kept current by a list-and-watch with a field selector on
// spec.nodeName. client-node's ListWatch stops on an error; this restarts it with back-off.
import { ListWatch, Watch, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Backoff, delay } from '../../shared/backoff.js';
import { messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

export class PodInformer {
  readonly #watch: ListWatch<V1Pod>;
  readonly #log: Logger;
  readonly #backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  #synced = false;
  #stopped = false;
  #restarting = false;

  constructor(options: {
    kubeConfig: KubeConfig;
    core: CoreV1Api;
    nodeName: string;
    logger: Logger;
    onChange: (key: string) => void;
  }) {
    const fieldSelector = `spec.nodeName=${options.nodeName}`;
    this.#log = options.logger.child({ component: 'pod-informer' });
    const list = async () => {
      const result = await options.core.listPodForAllNamespaces({ fieldSelector });
      this.#synced = true;
      this.#backoff.reset();
      return result;
    };
    this.#watch = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(options.kubeConfig),
      list,
      false,
      undefined,
      fieldSelector,
    );
    const changed = (pod: V1Pod) => options.onChange(podKey(pod));
    this.#watch.on('add', changed);
    this.#watch.on('update', changed);
    this.#watch.on('delete', changed);
    this.#watch.on('error', (err: unknown) => void this.#restart(err));
  }

  async start(): Promise<void> {
    await this.#watch.start();
  }

  stop(): void {
    this.#stopped = true;
    void this.#watch.stop();
  }

  /** True once the first list has been seen: before that, "not in the cache" means nothing. */
  get synced(): boolean {
    return this.#synced;
  }

  get(key: string): V1Pod | undefined {
    const slash = key.indexOf('/');
    return this.#watch.get(key.slice(slash + 1), key.slice(0, slash));
  }

  list(): V1Pod[] {
    return [...this.#watch.list()];
  }

  async #restart(err: unknown): Promise<void> {
    if (this.#stopped || this.#restarting) return;
    this.#restarting = true;
    const wait = this.#backoff.next();
    this.#log.warn({ err: messageOf(err), retryInMs: wait }, 'pod watch failed; restarting');
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
