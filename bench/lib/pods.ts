// The pods a bench creates, and how it creates and removes them in bulk. The app container is the
// pause image: it runs until stopped and exits at once on SIGTERM, so deletion times measure
// vic-kubelet and the engine, not a grace period.
import { performance } from 'node:perf_hooks';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, testEnv, testNamespace } from '../../test/support/env.js';
import { podOn } from '../../test/support/pods.js';
import { podVmContainers } from '../../test/support/vic-kubelet.js';
import { onCleanup } from './cleanup.js';
import { inPool, sleep } from './pool.js';
import type { PodWatch } from './pod-watch.js';

export const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);

/** A namespace for a scenario, deleted with its pods at the end (or on interruption). */
export async function benchNamespace(prefix: string): Promise<{ name: string; close: () => Promise<void> }> {
  const ns = await testNamespace(kubeConfig(), prefix);
  const close = onCleanup(`namespace ${ns.name}`, () => ns.cleanup());
  return { name: ns.name, close };
}

/** A pod on the node whose one container idles until stopped. */
export function idlePod(nodeName: string, extra: Partial<k8s.V1PodSpec> = {}): k8s.V1PodSpec {
  return podOn(nodeName, {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    containers: [{ name: 'main', image: testEnv.pauseImage, imagePullPolicy: 'IfNotPresent' }],
    ...extra,
  });
}

/** Creates the pods, `concurrency` requests at a time; returns when each create call returned. */
export async function createPods(
  namespace: string,
  names: readonly string[],
  spec: k8s.V1PodSpec,
  concurrency: number,
): Promise<Map<string, number>> {
  const api = core();
  const created = new Map<string, number>();
  await inPool(names, concurrency, async (name) => {
    created.set(name, performance.now());
    await api.createNamespacedPod({ namespace, body: { metadata: { name }, spec } });
  });
  return created;
}

/**
 * Deletes every pod of the namespace (as `kubectl delete pods --all`: graceful, the pod's own grace
 * period), then waits until the watch has seen them all go and the engine holds no pod VM of the node.
 * Returns the time from the delete call to the last of those two.
 */
export async function deleteAllPods(options: {
  namespace: string;
  nodeName: string;
  watch: PodWatch;
  timeoutMs: number;
}): Promise<number> {
  const started = performance.now();
  await core().deleteCollectionNamespacedPod({ namespace: options.namespace });
  const gone = await options.watch.when('every pod gone', (pods) => pods.size === 0, options.timeoutMs);
  const engineEmpty = await engineHoldsNothing(options.nodeName, options.timeoutMs);
  return Math.max(gone, engineEmpty) - started;
}

/** Waits until the engine has no container labelled with the node; returns when that was seen. */
export async function engineHoldsNothing(nodeName: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await podVmContainers(nodeName);
    if (left.length === 0) return performance.now();
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms: ${left.length} containers of ${nodeName} remain on the engine`,
      );
    }
    await sleep(100);
  }
}

export const names = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);
