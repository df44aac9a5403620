// GET /metrics/resource: what metrics-server scrapes for `kubectl top`, as the kubelet's resource metrics
// collector writes it (pkg/kubelet/metrics/collectors/resource_metrics.go): cumulative CPU and working set
// per node, pod and container, each with the time of its sample in milliseconds.
import type { Request, Response } from 'express';
import { Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { NodeUsage, UsageSource } from '../../provider/kubelet-api.js';
import type { Logger } from '../../shared/logger.js';
import { hasSample } from './stats-summary.js';

const containerLabels = ['container', 'pod', 'namespace'] as const;
const podLabels = ['pod', 'namespace'] as const;

/**
 * A dedicated prom-client Registry holds the families; since prom-client 13 the registry no longer writes
 * sample timestamps, which metrics-server needs, so the text is written here from the registry's values
 * plus the timestamps recorded while filling them.
 */
export class ResourceMetrics {
  readonly registry = new Registry();
  /** The series this scrape wrote, with the time of their sample where they have one. */
  readonly #written = new Map<string, number | undefined>();
  readonly #source: UsageSource;
  readonly #log: Logger;
  #queue: Promise<unknown> = Promise.resolve();

  // Registered in name order, the order of the Go registry's output.
  readonly #containerCpu = this.#family(
    'counter',
    'container_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the container in core-seconds',
    containerLabels,
  );
  readonly #containerMemory = this.#family(
    'gauge',
    'container_memory_working_set_bytes',
    'Current working set of the container in bytes',
    containerLabels,
  );
  readonly #containerStart = this.#family(
    'gauge',
    'container_start_time_seconds',
    'Start time of the container since unix epoch in seconds',
    containerLabels,
  );
  readonly #nodeCpu = this.#family(
    'counter',
    'node_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the node in core-seconds',
    [],
  );
  readonly #nodeMemory = this.#family(
    'gauge',
    'node_memory_working_set_bytes',
    'Current working set of the node in bytes',
    [],
  );
  readonly #podCpu = this.#family(
    'counter',
    'pod_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the pod in core-seconds',
    podLabels,
  );
  readonly #podMemory = this.#family(
    'gauge',
    'pod_memory_working_set_bytes',
    'Current working set of the pod in bytes',
    podLabels,
  );
  readonly #scrapeError = this.#family(
    'gauge',
    'resource_scrape_error',
    '1 if there was an error while getting container metrics, 0 otherwise',
    [],
  );

  constructor(options: { source: UsageSource; logger: Logger }) {
    this.#source = options.source;
    this.#log = options.logger;
  }

  /** One scrape: the exposition text. Scrapes run one at a time since they share the registry. */
  scrape(): Promise<string> {
    const run = this.#queue.then(() => this.#scrapeNow());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #scrapeNow(): Promise<string> {
    this.registry.resetMetrics();
    this.#written.clear();
    try {
      this.#fill(await this.#source.usage());
      this.#set(this.#scrapeError, {}, 0);
    } catch (err) {
      this.#log.error({ err }, 'error getting usage for the resource metrics endpoint');
      this.#set(this.#scrapeError, {}, 1);
    }
    return formatExposition(await this.registry.getMetricsAsJSON(), this.#written);
  }

  #fill(usage: NodeUsage): void {
    const node = usage.total;
    if (node.usageCoreNanoSeconds > 0)
      this.#set(this.#nodeCpu, {}, node.usageCoreNanoSeconds / 1e9, node.time);
    if (node.workingSetBytes > 0) this.#set(this.#nodeMemory, {}, node.workingSetBytes, node.time);
    for (const pod of usage.pods) {
      const { name, namespace } = pod.pod;
      for (const c of pod.containers) {
        // Never a zero for a running container: one without a sample yet is left out entirely.
        if (!hasSample(c)) continue;
        const labels = { container: c.name, pod: name, namespace };
        if (c.startTime.getTime() > 0) this.#set(this.#containerStart, labels, c.startTime.getTime() / 1000);
        this.#set(this.#containerCpu, labels, c.usageCoreNanoSeconds / 1e9, c.time);
        this.#set(this.#containerMemory, labels, c.workingSetBytes, c.time);
      }
      if (hasSample(pod.total)) {
        this.#set(
          this.#podCpu,
          { pod: name, namespace },
          pod.total.usageCoreNanoSeconds / 1e9,
          pod.total.time,
        );
        this.#set(this.#podMemory, { pod: name, namespace }, pod.total.workingSetBytes, pod.total.time);
      }
    }
  }

  #set(family: Family, labels: Record<string, string>, value: number, time?: Date): void {
    if (family.metric instanceof Counter) family.metric.inc(labels, value);
    else family.metric.set(labels, value);
    this.#written.set(seriesKey(family.name, labels), time?.getTime());
  }

  #family(type: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[]): Family {
    // component-base writes the stability level in front of the help text.
    const config = { name, help: `[STABLE] ${help}`, labelNames, registers: [this.registry] };
    return { name, metric: type === 'counter' ? new Counter(config) : new Gauge(config) };
  }
}

interface Family {
  name: string;
  metric: Counter | Gauge;
}

function seriesKey(name: string, labels: Partial<Record<string, string | number>>): string {
  const pairs = Object.entries(labels)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}${JSON.stringify(pairs)}`;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Prometheus text format 0.0.4 of the `written` series (prom-client keeps a 0 for label-less metrics that
 * were not set; those are left out), with a timestamp after each value that has one.
 */
export function formatExposition(
  families: MetricObjectWithValues<MetricValue<string>>[],
  written: ReadonlyMap<string, number | undefined>,
): string {
  const lines: string[] = [];
  for (const family of families) {
    const values = family.values.filter(({ labels }) => written.has(seriesKey(family.name, labels)));
    // The Go registry leaves out a family with no samples.
    if (values.length === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const { labels, value } of values) {
      const pairs = Object.entries(labels).filter(([, v]) => v !== undefined);
      const text = pairs.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',');
      const ts = written.get(seriesKey(family.name, labels));
      const suffix = ts === undefined ? '' : ` ${ts}`;
      lines.push(`${family.name}${text ? `{${text}}` : ''} ${formatValue(value)}${suffix}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function resourceMetricsHandler(metrics: ResourceMetrics) {
  return async (_req: Request, res: Response): Promise<void> => {
    const text = await metrics.scrape();
    res.status(200).setHeader('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE);
    res.send(text);
  };
}
