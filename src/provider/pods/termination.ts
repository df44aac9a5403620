// Stopping containers as a kubelet does: the preStop hook first, inside the grace period, then the
// stop signal and SIGKILL when the grace runs out; on pod termination the app containers first, the
// sidecars after them in reverse order, the sandbox last
// (pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer, killContainersWithSyncResult).
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.js';
import { DEFAULT_GRACE_SECONDS, type PodVmLifecycle } from '../../vch/index.js';
import type { ContainerStatus, PodVmStatus } from '../../vch/types.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import { containerOf, fieldPathOf } from './pod-names.js';
import { isSidecar } from './state/container-plan.js';

/** Runs a container's preStop hook, at most `budgetMs`; resolves when it is done or given up. */
export type PreStopRunner = (
  pod: V1Pod,
  container: V1Container,
  id: string,
  budgetMs: number,
) => Promise<void>;

export interface TerminationOptions {
  pods: PodVmLifecycle;
  recorder: EventRecorder;
  logger: Logger;
  clock: { now(): number };
  preStop?: PreStopRunner;
}

/** The kubelet never stops a container with less than this (kuberuntime_container.go). */
const minimumGraceSeconds = 2;

export function effectiveGrace(pod: V1Pod, requested: number | undefined): number {
  return requested ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

export class Termination {
  readonly #o: TerminationOptions;

  constructor(options: TerminationOptions) {
    this.#o = options;
  }

  /** Stops one container: its preStop hook, then the stop signal, SIGKILL after the grace period. */
  async killContainer(pod: V1Pod, name: string, id: string, graceSeconds: number | undefined): Promise<void> {
    const grace = effectiveGrace(pod, graceSeconds);
    const started = this.#o.clock.now();
    const container = containerOf(pod, name);
    if (container?.lifecycle?.preStop && this.#o.preStop && grace > 0) {
      await this.#o.preStop(pod, container, id, grace * 1000);
    }
    const spent = (this.#o.clock.now() - started) / 1000;
    // A grace period of 0 (force delete) kills at once; otherwise at least the kubelet's minimum.
    const left = grace === 0 ? 0 : Math.max(minimumGraceSeconds, Math.ceil(grace - spent));
    await this.#o.pods.stopContainer(id, left);
  }

  /**
   * Stops every running container of the pod VM within one grace period: app containers together,
   * then sidecars one by one in reverse order, then the sandbox.
   */
  async stopPod(
    pod: V1Pod,
    status: PodVmStatus | undefined,
    graceSeconds: number | undefined,
  ): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const grace = effectiveGrace(pod, graceSeconds);
    const deadline = this.#o.clock.now() + grace * 1000;
    const left = () => (grace === 0 ? 0 : Math.max(0, (deadline - this.#o.clock.now()) / 1000));
    const running = (list: ContainerStatus[] | undefined) =>
      (list ?? []).filter((s) => s.state.kind === 'running');
    const announce = (s: ContainerStatus) =>
      this.#o.recorder.record(pod, {
        type: 'Normal',
        reason: 'Killing',
        message: `Stopping container ${s.name}`,
        fieldPath: fieldPathOf(pod, s.name),
      });

    // Debug containers stop with the app containers, as the kubelet kills every running container.
    const apps = running([...(status?.containers ?? []), ...(status?.ephemeralContainers ?? [])]);
    apps.forEach(announce);
    await Promise.all(apps.map((s) => this.killContainer(pod, s.name, s.id, left())));
    const sidecarOrder = (pod.spec?.initContainers ?? [])
      .filter(isSidecar)
      .map((c) => c.name)
      .reverse();
    const sidecars = running(status?.initContainers).sort(
      (a, b) => sidecarOrder.indexOf(a.name) - sidecarOrder.indexOf(b.name),
    );
    for (const s of sidecars) {
      announce(s);
      await this.killContainer(pod, s.name, s.id, left());
    }
    // Whatever is left (a regular init container still running, the sandbox).
    await this.#o.pods.stop(uid, Math.floor(left()));
  }
}
