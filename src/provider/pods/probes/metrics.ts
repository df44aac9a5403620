// The kubelet's prober metrics, served on GET /metrics/probes (pkg/kubelet/prober/prober_manager.go:
// prober_probe_total and prober_probe_duration_seconds, with the same names and labels).
import { Counter, Histogram, Registry } from 'prom-client';
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
