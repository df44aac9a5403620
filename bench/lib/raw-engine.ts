// The floor: the same pod VMs created, started, stopped and removed straight on the Docker engine
// with dockerode, no Kubernetes and no vic-kubelet in between. Every container carries the bench's
// raw label with the run's id, so clean-up finds them whatever happened.
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { docker, testEnv } from '../../test/support/env.js';
import { rawLabel } from './cleanup.js';
import { inPool } from './pool.js';

export type Layout = 'shared' | 'vm-per-pod';

export interface RawPodVm {
  /** Newest first: the order to stop and remove them in. */
  containers: Docker.Container[];
}

export interface RawOptions {
  runId: string;
  layout: Layout;
  /** The app container's image and command (default: the pause image, as the bench's pods). */
  image?: string;
  cmd?: string[];
}

/**
 * One pod VM as vic-kubelet's layout makes it: `shared` is a sandbox holding the network and IPC
 * namespaces and the app container joined to them; `vm-per-pod` is the app container alone.
 */
export async function createRawPodVm(options: RawOptions): Promise<RawPodVm> {
  const engine = docker();
  const labels = { [rawLabel]: options.runId };
  const app = { Image: options.image ?? testEnv.pauseImage, ...(options.cmd ? { Cmd: options.cmd } : {}) };
  if (options.layout === 'vm-per-pod') {
    const c = await engine.createContainer({ ...app, Labels: labels });
    await c.start();
    return { containers: [c] };
  }
  const sandbox = await engine.createContainer({
    Image: testEnv.pauseImage,
    Labels: labels,
    HostConfig: { IpcMode: 'shareable' },
  });
  await sandbox.start();
  const c = await engine.createContainer({
    ...app,
    Labels: labels,
    HostConfig: { NetworkMode: `container:${sandbox.id}`, IpcMode: `container:${sandbox.id}` },
  });
  await c.start();
  return { containers: [c, sandbox] };
}

/** Stops (SIGTERM, as a graceful pod delete) and removes a pod VM. */
export async function removeRawPodVm(vm: RawPodVm): Promise<void> {
  for (const c of vm.containers) {
    await c.stop({ t: 5 }).catch(() => undefined);
    await c.remove({ force: true });
  }
}

/** The time to create and start one pod VM; it is removed afterwards, outside the timing. */
export async function rawStartTime(options: RawOptions): Promise<number> {
  const started = performance.now();
  const vm = await createRawPodVm(options);
  const took = performance.now() - started;
  await removeRawPodVm(vm);
  return took;
}

/** A burst: n pod VMs at the given concurrency, then all removed at the same concurrency. */
export async function rawBurst(
  options: RawOptions & { n: number; concurrency: number },
): Promise<{ createMs: number; deleteMs: number }> {
  const started = performance.now();
  const vms = await inPool(Array.from({ length: options.n }), options.concurrency, () =>
    createRawPodVm(options),
  );
  const createMs = performance.now() - started;
  const deleting = performance.now();
  await inPool(vms, options.concurrency, (vm) => removeRawPodVm(vm));
  return { createMs, deleteMs: performance.now() - deleting };
}
