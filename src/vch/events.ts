// The one subscription to the VCH's /events stream for a node's containers: reconnects after a drop,
// resumes from the last event seen so nothing is missed, drops replayed duplicates, and runs a slow
// full resync as a safety net.
import type { IncomingMessage } from 'node:http';
import { systemClock, type Clock } from '../shared/clock.js';
import { messageOf } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { dial, type VchClient } from './client.js';
import { nodeFilter, parseLabels } from './labels.js';
import { PeriodicResync } from './resync.js';
import type { ContainerRole } from './types.js';
import { onLines } from './json-lines.js';

export interface VchEvent {
  podUid: string;
  podNamespace: string;
  podName: string;
  containerName: string;
  role: ContainerRole;
  attempt: number;
  containerId: string;
  /** Docker's action: create, start, die, oom, kill, stop, destroy, pause, unpause, restart... */
  action: string;
  time: Date;
  /** On `die`: the exit code Docker reported. */
  exitCode?: number;
}

/** Raw Docker event fields we read. */
export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

// Actions that change what a pod's status says; exec_*, attach, resize and the like do not.
const stateActions = new Set([
  'create',
  'start',
  'restart',
  'die',
  'oom',
  'kill',
  'stop',
  'destroy',
  'pause',
  'unpause',
]);

export function toVchEvent(raw: DockerEvent): VchEvent | undefined {
  if (raw.Type !== 'container' || !raw.Action || !stateActions.has(raw.Action)) return undefined;
  const labels = parseLabels(raw.Actor?.Attributes);
  if (!labels || !raw.Actor?.ID) return undefined;
  const ms = raw.timeNano !== undefined ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000;
  const event: VchEvent = {
    podUid: labels.pod.uid,
    podNamespace: labels.pod.namespace,
    podName: labels.pod.name,
    containerName: labels.containerName,
    role: labels.role,
    attempt: labels.attempt,
    containerId: raw.Actor.ID,
    action: raw.Action,
    time: new Date(ms),
  };
  const exitCode = raw.Actor.Attributes?.exitCode;
  if (exitCode !== undefined && /^-?\d+$/.test(exitCode)) event.exitCode = Number(exitCode);
  return event;
}

/**
 * Remembers recent events so that the replay after a reconnect (`since` reaches back a little)
 * delivers each event once. Keys older than the window behind the newest event are forgotten.
 */
export class EventDeduper {
  readonly #windowNs: number;
  readonly #seen = new Map<string, number>();
  #newestNs = 0;

  constructor(windowMs = 5000) {
    this.#windowNs = windowMs * 1e6;
  }

  /** The newest event time seen, in nanoseconds since the epoch; 0 before any. */
  get newestNs(): number {
    return this.#newestNs;
  }

  /** True the first time an event is offered, false for a replay. */
  admit(raw: DockerEvent): boolean {
    const ns = raw.timeNano ?? (raw.time ?? 0) * 1e9;
    const key = `${raw.Actor?.ID ?? ''}|${raw.Action ?? ''}|${ns}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, ns);
    if (ns > this.#newestNs) {
      this.#newestNs = ns;
      const horizon = ns - this.#windowNs;
      for (const [k, t] of this.#seen) if (t < horizon) this.#seen.delete(k);
    }
    return true;
  }
}

/** Docker's `since`: seconds with a fraction. Reaches back a second in case the VCH keeps whole seconds. */
export function sinceParameter(newestNs: number, reachBackMs = 1000): string {
  const ns = Math.max(0, newestNs - reachBackMs * 1e6);
  return (ns / 1e9).toFixed(9);
}

export interface EventWatcherOptions {
  nodeName: string;
  onEvent: (event: VchEvent) => void;
  /** The safety net: called every resyncIntervalMs and after every reconnect. */
  onResync?: () => void | Promise<void>;
  resyncIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

export class EventWatcher {
  readonly #client: VchClient;
  readonly #options: EventWatcherOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #dedup = new EventDeduper();
  #stream: IncomingMessage | undefined;
  #running = false;
  #backoffMs = MIN_BACKOFF_MS;
  #connectedOnce = false;
  #startedNs = 0;
  #retryTimer: { cancel(): void } | undefined;
  readonly #resync: PeriodicResync;

  constructor(client: VchClient, options: EventWatcherOptions) {
    this.#client = client;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'vch.events' });
    this.#resync = new PeriodicResync({
      onResync: options.onResync,
      intervalMs: options.resyncIntervalMs,
      clock: this.#clock,
      logger: this.#log,
    });
  }

  /** True while a stream is open. */
  get connected(): boolean {
    return this.#stream !== undefined;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startedNs = this.#clock.now() * 1e6;
    this.#resync.start();
    void this.#connect();
  }

  stop(): void {
    this.#running = false;
    this.#retryTimer?.cancel();
    this.#resync.stop();
    this.#stream?.destroy();
    this.#stream = undefined;
  }

  async #connect(): Promise<void> {
    if (!this.#running) return;
    const resuming = this.#connectedOnce;
    const filters = { type: ['container'], label: nodeFilter(this.#options.nodeName) };
    // Resume from the newest event seen; before any, from when we started watching.
    const since = resuming ? sinceParameter(this.#dedup.newestNs || this.#startedNs) : undefined;
    let stream: IncomingMessage;
    try {
      // Through the modem: dockerode's types want `since` as whole seconds, Docker takes a fraction.
      stream = await dial<IncomingMessage>(this.#client, 'watch VCH events', {
        path: '/events?',
        method: 'GET',
        options: { filters, ...(since !== undefined ? { since } : {}) },
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
      });
    } catch (err) {
      this.#log.warn({ err: messageOf(err) }, 'event stream failed');
      this.#scheduleReconnect();
      return;
    }
    if (!this.#running) {
      stream.destroy();
      return;
    }
    this.#stream = stream;
    this.#connectedOnce = true;
    this.#backoffMs = MIN_BACKOFF_MS;
    this.#log.debug({ since }, 'event stream connected');
    onLines(stream, (line) => this.#handleLine(line));
    stream.on('error', (err) => this.#log.info({ err: messageOf(err) }, 'event stream dropped'));
    stream.on('close', () => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#scheduleReconnect();
    });
    // Events could have been missed beyond what the VCH buffers for `since`: a resync settles it.
    if (resuming) this.#resync.now();
  }

  #handleLine(line: string): void {
    let raw: DockerEvent;
    try {
      raw = JSON.parse(line) as DockerEvent;
    } catch {
      this.#log.warn({ line: line.slice(0, 200) }, 'unreadable event line');
      return;
    }
    if (!this.#dedup.admit(raw)) return;
    const event = toVchEvent(raw);
    if (!event) return;
    try {
      this.#options.onEvent(event);
    } catch (err) {
      this.#log.error({ err: messageOf(err) }, 'event handler threw');
    }
  }

  #scheduleReconnect(): void {
    if (!this.#running) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    this.#retryTimer = this.#clock.setTimeout(() => void this.#connect(), delay);
  }
}
