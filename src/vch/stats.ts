// Container resource usage for `kubectl top` and the summary API, read from the engine when asked:
// one `stats?stream=false&one-shot=true` call per container (Docker API 1.41: one sample, not the two a
// second apart that stream=false waits for). The engine answers it on the next pass of its collector,
// which runs once a second while anyone waits, and one pass answers every call waiting: callers ask
// for all the containers they need at once. The CPU rate is the difference from this collector's
// previous sample of the container, as cAdvisor computes it between its housekeeping passes.
//
// It used to hold one streaming subscription per running container, so that a question was answered
// at once. The engine then collected every container every second: at 100 idle pods that was 0.21 CPU
// seconds a second of dockerd and containerd, and nothing once the streams closed, plus a socket per
// container here (issue 15). metrics-server asks every 15 s at most.
import { systemClock, type Clock } from '../shared/clock.js';
import { messageOf } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { dial, type VchClient } from './client.js';

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

interface Kept {
  latest?: ContainerStats;
  /** When `latest` was read, on this collector's clock. */
  readAt?: number;
  /** The engine call under way: questions that come meanwhile share it. */
  reading?: Promise<ContainerStats | undefined>;
}

export interface StatsCollectorOptions {
  /**
   * A sample this recent is the answer again, without asking the engine (scrapes close together).
   * Default 2 s: the engine answers on its collector's pass, once a second, so the samples of one
   * scrape can be a second apart.
   */
  maxAgeMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export class StatsCollector {
  readonly #client: VchClient;
  readonly #kept = new Map<string, Kept>();
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(client: VchClient, options: StatsCollectorOptions = {}) {
    this.#client = client;
    this.#maxAgeMs = options.maxAgeMs ?? 2000;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'vch.stats' });
  }

  /** A sample of the container now (or from less than maxAgeMs ago); undefined when it has none. */
  get(containerId: string): Promise<ContainerStats | undefined> {
    const kept = this.#kept.get(containerId) ?? this.#keep(containerId);
    if (kept.latest && kept.readAt !== undefined && this.#clock.now() - kept.readAt < this.#maxAgeMs) {
      return Promise.resolve(kept.latest);
    }
    kept.reading ??= this.#read(containerId, kept).finally(() => {
      kept.reading = undefined;
    });
    return kept.reading;
  }

  /** Drops what is kept of a container that stopped or was removed (its next sample has no rate). */
  forget(containerId: string): void {
    this.#kept.delete(containerId);
  }

  /** The containers this collector keeps a sample of. */
  get kept(): string[] {
    return [...this.#kept.keys()];
  }

  close(): void {
    this.#kept.clear();
  }

  #keep(id: string): Kept {
    const kept: Kept = {};
    this.#kept.set(id, kept);
    return kept;
  }

  async #read(id: string, kept: Kept): Promise<ContainerStats | undefined> {
    let sample: DockerStatsSample;
    try {
      sample = await dial<DockerStatsSample>(this.#client, `stats of container ${id}`, {
        path: `/containers/${id}/stats?`,
        method: 'GET',
        options: { stream: false, 'one-shot': true },
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
      });
    } catch (err) {
      this.#log.debug({ id, err: messageOf(err) }, 'stats of a container could not be read');
      return undefined;
    }
    const stats = toContainerStats(id, sample, kept.latest);
    // A stopped container answers with no read time: no sample, and nothing kept to rate against.
    if (!stats) return undefined;
    if (this.#kept.get(id) === kept) {
      kept.latest = stats;
      kept.readAt = this.#clock.now();
    }
    return stats;
  }
}
