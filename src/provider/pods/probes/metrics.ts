// The kubelet's prober metrics, served on GET /metrics/probes (pkg/kubelet/prober/prober_manager.go:
// prober_probe_total and prober_probe_duration_seconds, with the same names and labels), and two of
// our own that show a prober falling behind: how late probes run, and the execs waiting for the VCH.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProbeResult } from './runners.js';
import type { ProbeType } from './probe-spec.js';

export interface ProbeLabels {
  type: ProbeType;
  container: string;
  pod: string;
  namespace: string;
  podUid: string;
}

const typeName: Record<ProbeType, string> = {
  liveness: 'Liveness',
  readiness: 'Readiness',
  startup: 'Startup',
};
const resultName: Record<ProbeResult, string> = {
  success: 'successful',
  failure: 'failed',
  unknown: 'unknown',
};

export class ProbeMetrics {
  readonly registry = new Registry();
  readonly #total = new Counter({
    name: 'prober_probe_total',
    help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
    labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'prober_probe_duration_seconds',
    help: 'Duration in seconds for a probe response.',
    labelNames: ['probe_type', 'container', 'pod', 'namespace'],
    registers: [this.registry],
  });

  readonly #delay = new Histogram({
    name: 'vic_prober_probe_delay_seconds',
    help: 'How late a probe started after it was due: waiting for the exec budget of the VCH, or a busy process.',
    labelNames: ['probe_type'],
    buckets: [0.005, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /** Exec probes running and waiting for the VCH, read at each scrape. */
  watchExecBudget(read: () => { inFlight: number; waiting: number }): void {
    new Gauge({
      name: 'vic_prober_exec_probes',
      help: 'Exec probes running on the VCH (state="running") and waiting for a slot of its budget (state="waiting").',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const now = read();
        this.set({ state: 'running' }, now.inFlight);
        this.set({ state: 'waiting' }, now.waiting);
      },
    });
  }

  observeDelay(type: ProbeType, seconds: number): void {
    this.#delay.observe({ probe_type: typeName[type] }, seconds);
  }

  observe(labels: ProbeLabels, result: ProbeResult, seconds: number): void {
    const probeType = typeName[labels.type];
    this.#total.inc({
      probe_type: probeType,
      result: resultName[result],
      container: labels.container,
      pod: labels.pod,
      namespace: labels.namespace,
      pod_uid: labels.podUid,
    });
    if (result !== 'unknown') {
      this.#duration.observe(
        { probe_type: probeType, container: labels.container, pod: labels.pod, namespace: labels.namespace },
        seconds,
      );
    }
  }

  /** Drops the series of a pod that is gone, as the kubelet's prober does when a worker stops. */
  forget(labels: Omit<ProbeLabels, 'type'>): void {
    for (const type of Object.values(typeName)) {
      for (const result of Object.values(resultName)) {
        this.#total.remove({
          probe_type: type,
          result,
          container: labels.container,
          pod: labels.pod,
          namespace: labels.namespace,
          pod_uid: labels.podUid,
        });
      }
      this.#duration.remove({
        probe_type: type,
        container: labels.container,
        pod: labels.pod,
        namespace: labels.namespace,
      });
    }
  }

  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
