// The API server's view of a namespace's pods as a watch delivers it, with the arrival time of every
// change: "Running seen through a watch" is the moment the event carrying it arrives here, as a
// controller or `kubectl get -w` would see it, not the next poll.
import { performance } from 'node:perf_hooks';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig } from '../../test/support/env.js';

type Waiter = {
  check: () => boolean;
  resolve: (at: number) => void;
};

export class PodWatch {
  readonly pods = new Map<string, k8s.V1Pod>();
  #waiters = new Set<Waiter>();
  #request: { abort(): void } | undefined;
  #stopped = false;

  private constructor(readonly namespace: string) {}

  static async start(namespace: string): Promise<PodWatch> {
    const w = new PodWatch(namespace);
    await w.#connect();
    return w;
  }

  async #connect(): Promise<void> {
    const watch = new k8s.Watch(kubeConfig());
    this.#request = await watch.watch(
      `/api/v1/namespaces/${this.namespace}/pods`,
      {},
      (type: string, pod: k8s.V1Pod) => {
        const at = performance.now();
        const name = pod.metadata?.name ?? '';
        if (type === 'DELETED') this.pods.delete(name);
        else if (type === 'ADDED' || type === 'MODIFIED') this.pods.set(name, pod);
        for (const w of this.#waiters) {
          if (w.check()) {
            this.#waiters.delete(w);
            w.resolve(at);
          }
        }
      },
      () => {
        // The server ends a watch after a while: open a new one (it lists what exists as ADDED).
        if (!this.#stopped) void this.#connect().catch(() => undefined);
      },
    );
  }

  /**
   * Resolves with the arrival time (performance.now()) of the first event after which `check` holds,
   * or now if it already holds; fails after `timeoutMs` saying what it last saw.
   */
  when(what: string, check: (pods: Map<string, k8s.V1Pod>) => boolean, timeoutMs: number): Promise<number> {
    if (check(this.pods)) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => check(this.pods),
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${this.summary()}`),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** When one pod first satisfies `check`. */
  whenPod(
    name: string,
    what: string,
    check: (pod: k8s.V1Pod) => boolean,
    timeoutMs = 120_000,
  ): Promise<number> {
    return this.when(
      `${this.namespace}/${name} ${what}`,
      (pods) => {
        const pod = pods.get(name);
        return pod !== undefined && check(pod);
      },
      timeoutMs,
    );
  }

  /** How many pods are in each phase, e.g. `{"Running":480,"Pending":20}`. */
  summary(): string {
    const phases: Record<string, number> = {};
    for (const pod of this.pods.values()) {
      const phase = pod.metadata?.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'none');
      phases[phase] = (phases[phase] ?? 0) + 1;
    }
    return JSON.stringify(phases);
  }

  stop(): void {
    this.#stopped = true;
    this.#request?.abort();
  }
}

export const isRunning = (pod: k8s.V1Pod): boolean => pod.status?.phase === 'Running';
