// vic-kubelet's own metrics, served on GET /metrics: pods running, pod sync latency, errors by code and
// kubelet API requests, in a prom-client Registry of their own. The provider calls the methods; the
// server only serves the text.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../shared/errors.js';

export type SyncOutcome = 'success' | 'error';

export class KubeletMetrics {
  readonly registry: Registry;
  readonly #podsRunning: Gauge;
  readonly #podSync: Histogram<'outcome'>;
  readonly #errors: Counter<'code' | 'component'>;
  readonly #requests: Counter<'route' | 'method' | 'code'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registry = new Registry();
    this.registry = registry;
    this.#podsRunning = new Gauge({
      name: 'vic_kubelet_running_pods',
      help: 'Number of pods that have a running pod VM on the VCH',
      registers: [registry],
    });
    this.#podSync = new Histogram({
      name: 'vic_kubelet_pod_sync_duration_seconds',
      help: 'Time to reconcile one pod with its pod VM, from dequeue to done',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.#errors = new Counter({
      name: 'vic_kubelet_errors_total',
      help: 'Errors by VicError code and the component that met them',
      labelNames: ['code', 'component'],
      registers: [registry],
    });
    this.#requests = new Counter({
      name: 'vic_kubelet_api_requests_total',
      help: 'Requests served on the kubelet port, by route, method and HTTP status',
      labelNames: ['route', 'method', 'code'],
      registers: [registry],
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'vic_kubelet_' });
  }

  setRunningPods(count: number): void {
    this.#podsRunning.set(count);
  }

  /** One pod sync took `seconds`. */
  observePodSync(seconds: number, outcome: SyncOutcome = 'success'): void {
    this.#podSync.observe({ outcome }, seconds);
  }

  countError(code: ErrorCode | 'Unknown', component = 'api'): void {
    this.#errors.inc({ code, component });
  }

  /** Used by the server: `route` is the route's pattern (never the pod names in the path). */
  countRequest(route: string, method: string, status: number): void {
    this.#requests.inc({ route, method, code: String(status) });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
