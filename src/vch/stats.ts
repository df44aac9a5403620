// Container resource usage for `kubectl top` and the summary API. Docker's one-shot stats take about a
// second, so a collector holds one streaming subscription per container in use and answers with
// the latest sample at once; subscriptions end when their container stops or nobody asks any more.
import type { IncomingMessage } from 'node:http';
import { systemClock, type Clock } from '../shared/clock.js';
import { messageOf } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { dial, type VchClient } from './client.js';
import { onLines } from './json-lines.js';

export interface ContainerStats {
  containerId: string;
  time: Date;
  /** Cumulative CPU time, nanoseconds. */
  cpuUsageCoreNanoSeconds: number;
  /** The rate between the last two samples, in billionths of a core; absent after one sample. */
  cpuUsageNanoCores?: number;
  memoryUsageBytes: number;
  /** usage minus inactive_file, as cadvisor and kubelet's eviction count it. */
  memoryWorkingSetBytes: number;
  memoryRssBytes?: number;
}

/** The fields of a Docker stats sample we read (cgroup v1 and v2 name the counters differently). */
export interface DockerStatsSample {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number | undefined> };
}

export function toContainerStats(
  id: string,
  sample: DockerStatsSample,
  before?: ContainerStats,
): ContainerStats | undefined {
  const time = sample.read ? new Date(sample.read) : undefined;
  if (!time || Number.isNaN(time.getTime()) || time.getTime() <= 0) return undefined;
  const cpu = sample.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const usage = sample.memory_stats?.usage ?? 0;
  const counters = sample.memory_stats?.stats ?? {};
  const inactive = counters.total_inactive_file ?? counters.inactive_file ?? 0;
  const rss = counters.total_rss ?? counters.rss ?? counters.anon;
  const stats: ContainerStats = {
    containerId: id,
    time,
    cpuUsageCoreNanoSeconds: cpu,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(0, usage - inactive),
  };
  if (rss !== undefined) stats.memoryRssBytes = rss;
  if (before) {
    const dtNs = (time.getTime() - before.time.getTime()) * 1e6;
    const dCpu = cpu - before.cpuUsageCoreNanoSeconds;
    if (dtNs > 0 && dCpu >= 0) stats.cpuUsageNanoCores = Math.round((dCpu / dtNs) * 1e9);
  }
  return stats;
}

interface Subscription {
  stream: IncomingMessage | undefined;
  latest: ContainerStats | undefined;
  lastAsked: number;
  waiters: ((s: ContainerStats | undefined) => void)[];
}

export interface StatsCollectorOptions {
  /** A subscription nobody read for this long is closed. */
  idleMs?: number;
  /** How long a first request for a container waits for its first sample. */
  firstSampleTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export class StatsCollector {
  readonly #client: VchClient;
  readonly #subs = new Map<string, Subscription>();
  readonly #idleMs: number;
  readonly #firstSampleMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #sweeper: { cancel(): void } | undefined;

  constructor(client: VchClient, options: StatsCollectorOptions = {}) {
    this.#client = client;
    this.#idleMs = options.idleMs ?? 5 * 60_000;
    this.#firstSampleMs = options.firstSampleTimeoutMs ?? 5000;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'vch.stats' });
  }

  /** Subscribes ahead of need (say, when a container starts), so that the first question is instant too. */
  track(containerId: string): void {
    this.#subscribe(containerId);
  }

  /** The latest sample; on the first question about a container, waits for its first sample. */
  async get(containerId: string): Promise<ContainerStats | undefined> {
    const sub = this.#subscribe(containerId);
    sub.lastAsked = this.#clock.now();
    if (sub.latest) return sub.latest;
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(sub.latest), this.#firstSampleMs);
      sub.waiters.push((s) => {
        timer.cancel();
        resolve(s);
      });
    });
  }

  /** Ends the subscription of a container that stopped or was removed. */
  forget(containerId: string): void {
    const sub = this.#subs.get(containerId);
    if (!sub) return;
    this.#subs.delete(containerId);
    sub.stream?.destroy();
    for (const w of sub.waiters.splice(0)) w(sub.latest);
  }

  /** The containers with an open subscription. */
  get tracked(): string[] {
    return [...this.#subs.keys()];
  }

  close(): void {
    this.#sweeper?.cancel();
    this.#sweeper = undefined;
    for (const id of [...this.#subs.keys()]) this.forget(id);
  }

  #subscribe(id: string): Subscription {
    const existing = this.#subs.get(id);
    if (existing) return existing;
    const sub: Subscription = {
      stream: undefined,
      latest: undefined,
      lastAsked: this.#clock.now(),
      waiters: [],
    };
    this.#subs.set(id, sub);
    this.#scheduleSweep();
    dial<IncomingMessage>(this.#client, `stats of container ${id}`, {
      path: `/containers/${id}/stats?`,
      method: 'GET',
      options: { stream: true },
      isStream: true,
      statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
    }).then(
      (stream) => this.#read(id, sub, stream),
      (err: unknown) => {
        this.#log.debug({ id, err: messageOf(err) }, 'stats subscription failed');
        if (this.#subs.get(id) === sub) this.forget(id);
      },
    );
    return sub;
  }

  #read(id: string, sub: Subscription, stream: IncomingMessage): void {
    if (this.#subs.get(id) !== sub) {
      stream.destroy();
      return;
    }
    sub.stream = stream;
    onLines(stream, (line) => {
      try {
        const stats = toContainerStats(id, JSON.parse(line) as DockerStatsSample, sub.latest);
        if (!stats) return;
        sub.latest = stats;
        for (const w of sub.waiters.splice(0)) w(stats);
      } catch (err) {
        this.#log.debug({ id, err: messageOf(err) }, 'unreadable stats sample');
      }
    });
    stream.on('error', (err) => this.#log.debug({ id, err: err.message }, 'stats stream error'));
    // Docker ends the stream when the container stops; a later question subscribes afresh.
    stream.on('close', () => {
      if (this.#subs.get(id) === sub) this.forget(id);
    });
  }

  #scheduleSweep(): void {
    if (this.#sweeper) return;
    this.#sweeper = this.#clock.setTimeout(
      () => {
        this.#sweeper = undefined;
        const now = this.#clock.now();
        for (const [id, sub] of this.#subs) if (now - sub.lastAsked > this.#idleMs) this.forget(id);
        if (this.#subs.size > 0) this.#scheduleSweep();
      },
      Math.max(1000, this.#idleMs / 2),
    );
  }
}
