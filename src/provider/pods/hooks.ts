// Container lifecycle hooks as a kubelet runs them (pkg/kubelet/lifecycle/handlers.go): exec inside
// the container through the VCH, httpGet from vic-kubelet to the pod IP, sleep. postStart runs right
// after the start; preStop before the stop signal, inside the grace period. Messages name the
// container and pod, never the hook's command.
import type { V1Container, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { resolvePort } from './probes/probe-spec.js';
import { runExec, runHttpGet, type ExecInContainer } from './probes/runners.js';

export interface HooksOptions {
  exec: ExecInContainer;
  clock: Clock;
  logger: Logger;
}

/** A postStart hook may run this long at most; the kubelet bounds it by the pod's grace period too. */
const maxPostStartMs = 120_000;

export class Hooks {
  readonly #o: HooksOptions;
  readonly #log: Logger;

  constructor(options: HooksOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'hooks' });
  }

  /** Runs the postStart hook, if any; the failure message when it failed. */
  async postStart(
    pod: V1Pod,
    container: V1Container,
    at: { containerId: string; podIP: string | undefined },
  ): Promise<string | undefined> {
    const handler = container.lifecycle?.postStart;
    if (!handler) return undefined;
    const grace = (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    const budgetMs = Math.min(maxPostStartMs, Math.max(grace, 1000));
    return this.#run(pod, container, handler, { ...at, budgetMs });
  }

  /** Runs the preStop hook, if any, for at most `budgetMs`; a failure is logged, as the kubelet does. */
  async preStop(pod: V1Pod, container: V1Container, containerId: string, budgetMs: number): Promise<void> {
    const handler = container.lifecycle?.preStop;
    if (!handler) return;
    const failure = await this.#run(pod, container, handler, {
      containerId,
      podIP: pod.status?.podIP,
      budgetMs,
    });
    if (failure)
      this.#log.info({ pod: pod.metadata?.name, container: container.name, failure }, 'preStop hook failed');
  }

  async #run(
    pod: V1Pod,
    container: V1Container,
    handler: V1LifecycleHandler,
    run: { containerId: string; podIP: string | undefined; budgetMs: number },
  ): Promise<string | undefined> {
    const { containerId, podIP, budgetMs } = run;
    const who = `Container "${container.name}" in Pod "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})"`;
    if (handler.sleep) {
      const ms = Math.min(budgetMs, handler.sleep.seconds * 1000);
      await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, ms));
      return undefined;
    }
    if (handler.exec) {
      // The container's own ID: the exec takes the engine's lean path, with no lookup (as probes do).
      const target = {
        uid: pod.metadata?.uid ?? '',
        containerName: container.name,
        containerId,
        podIP: undefined,
      };
      const outcome = await runExec(this.#o.exec, target, handler.exec.command ?? [], {
        timeoutMs: budgetMs,
      });
      if (outcome.result === 'success') return undefined;
      return `Exec lifecycle hook for ${who} failed - error: ${outcome.result === 'unknown' ? outcome.output : 'command exited with a non-zero code'}, message: ${JSON.stringify(outcome.output)}`;
    }
    if (handler.httpGet) {
      const port = resolvePort(handler.httpGet.port, container);
      if (port === undefined || !podIP) {
        return `HTTP lifecycle hook (${handler.httpGet.path ?? '/'}) for ${who} failed - error: no pod IP or port to call`;
      }
      const path = handler.httpGet.path ?? '/';
      const outcome = await runHttpGet(
        {
          kind: 'httpGet',
          scheme: handler.httpGet.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP',
          ...(handler.httpGet.host ? { host: handler.httpGet.host } : {}),
          port,
          path: path.startsWith('/') ? path : `/${path}`,
          headers: (handler.httpGet.httpHeaders ?? []).map((h) => ({ name: h.name, value: h.value })),
        },
        podIP,
        budgetMs,
      );
      if (outcome.result === 'success') return undefined;
      return `HTTP lifecycle hook (${path}) for ${who} failed - error: ${outcome.output}`;
    }
    return undefined;
  }
}
