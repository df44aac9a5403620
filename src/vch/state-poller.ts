// Status without an event stream: for a VCH that lacks /events (the `events` ability off), the node's
// containers are listed at a short interval and each change of state between two lists is announced as
// the event the stream would have carried (start, die, destroy), as the kubelet's generic PLEG relists
// its runtime every second and turns differences into pod lifecycle events (pkg/kubelet/pleg/generic.go,
// genericPlegRelistPeriod in pkg/kubelet/kubelet.go). One list call per interval, filtered by labels.
import type Docker from 'dockerode';
import { systemClock, type Clock } from '../shared/clock.js';
import { messageOf } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { call, type VchClient } from './client.js';
import type { EventWatcherOptions, VchEvent } from './events.js';
import { nodeFilter, parseLabels } from './labels.js';
import { PeriodicResync } from './resync.js';

/** The kubelet's generic PLEG relist period. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** What a list says of one container: enough to tell a change and to name the pod it belongs to. */
export interface ListedContainer {
  id: string;
  /** Docker's State: created, running, exited, dead, paused, restarting, removing. */
  state: string;
  /** Docker's Status text, e.g. "Exited (3) 2 seconds ago": the exit code of a stopped container. */
  status: string;
  labels: Record<string, string> | undefined;
}

const runningStates = new Set(['running', 'paused', 'restarting']);
const stoppedStates = new Set(['exited', 'dead']);

function exitCodeOf(status: string): number | undefined {
  const match = /^Exited \((-?\d+)\)/.exec(status);
  return match ? Number(match[1]) : undefined;
}

function eventFor(c: ListedContainer, action: string, time: Date): VchEvent | undefined {
  const labels = parseLabels(c.labels);
  if (!labels) return undefined;
  const event: VchEvent = {
    podUid: labels.pod.uid,
    podNamespace: labels.pod.namespace,
    podName: labels.pod.name,
    containerName: labels.containerName,
    role: labels.role,
    attempt: labels.attempt,
    containerId: c.id,
    action,
    time,
  };
  const exitCode = action === 'die' ? exitCodeOf(c.status) : undefined;
  if (exitCode !== undefined) event.exitCode = exitCode;
  return event;
}

/**
 * The events that lead from one list to the next, in the order the stream would have sent them. A
 * container seen for the first time is announced as created (and started, if it runs); one that ran and
 * now has stopped died; one that is gone was destroyed (after dying, if it was running).
 */
export function changesBetween(
  before: ReadonlyMap<string, ListedContainer>,
  after: ReadonlyMap<string, ListedContainer>,
  time: Date,
): VchEvent[] {
  const events: (VchEvent | undefined)[] = [];
  for (const [id, now] of after) {
    const was = before.get(id);
    if (!was) {
      events.push(eventFor(now, 'create', time));
      if (runningStates.has(now.state)) events.push(eventFor(now, 'start', time));
      else if (stoppedStates.has(now.state)) events.push(eventFor(now, 'die', time));
      continue;
    }
    if (was.state === now.state) continue;
    if (runningStates.has(now.state) && !runningStates.has(was.state))
      events.push(eventFor(now, 'start', time));
    else if (stoppedStates.has(now.state) && !stoppedStates.has(was.state))
      events.push(eventFor(now, 'die', time));
  }
  for (const [id, was] of before) {
    if (after.has(id)) continue;
    if (runningStates.has(was.state)) events.push(eventFor(was, 'die', time));
    events.push(eventFor(was, 'destroy', time));
  }
  return events.filter((e): e is VchEvent => e !== undefined);
}

export interface StatePollerOptions extends EventWatcherOptions {
  pollIntervalMs?: number;
}

/** The same start/stop and callbacks as the EventWatcher, fed by lists instead of a stream. */
export class StatePoller {
  readonly #client: VchClient;
  readonly #options: StatePollerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #running = false;
  #known: Map<string, ListedContainer> | undefined;
  #timer: { cancel(): void } | undefined;
  readonly #resync: PeriodicResync;
  #failing = false;

  constructor(client: VchClient, options: StatePollerOptions) {
    this.#client = client;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'vch.poll' });
    this.#resync = new PeriodicResync({
      onResync: options.onResync,
      intervalMs: options.resyncIntervalMs,
      clock: this.#clock,
      logger: this.#log,
    });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#resync.start();
    void this.#poll();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#resync.stop();
  }

  async #list(): Promise<Map<string, ListedContainer>> {
    const filters = { label: nodeFilter(this.#options.nodeName) };
    const infos = await call(this.#client, 'list containers for status', () =>
      this.#client.docker.listContainers({ all: true, filters }),
    );
    return new Map(
      infos.map((i: Docker.ContainerInfo) => [
        i.Id,
        { id: i.Id, state: i.State, status: i.Status, labels: i.Labels },
      ]),
    );
  }

  async #poll(): Promise<void> {
    if (!this.#running) return;
    try {
      const now = await this.#list();
      const before = this.#known;
      this.#known = now;
      if (this.#failing) this.#log.info('container list answers again');
      this.#failing = false;
      // The first list, or the first after a failure, has nothing to compare with: a resync settles it.
      if (!before) this.#resync.now();
      else for (const event of changesBetween(before, now, new Date(this.#clock.now()))) this.#emit(event);
    } catch (err) {
      if (!this.#failing) this.#log.warn({ err: messageOf(err) }, 'container list failed');
      this.#failing = true;
      this.#known = undefined;
    }
    if (!this.#running) return;
    this.#timer = this.#clock.setTimeout(
      () => void this.#poll(),
      this.#options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    );
  }

  #emit(event: VchEvent): void {
    try {
      this.#options.onEvent(event);
    } catch (err) {
      this.#log.error({ err: messageOf(err) }, 'event handler threw');
    }
  }
}

/**
 * Follows the VCH's `events` ability as it is known now: the event stream while the VCH has it, lists
 * while it lacks it, and a switch when a new reading of the VCH says otherwise (checked every interval,
 * no I/O). A switch to either side starts with a resync, so nothing changed in between is missed.
 */
export class StatusSource {
  readonly #make: { stream(): Watcher; poll(): Watcher };
  readonly #eventsOn: () => boolean;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #checkMs: number;
  readonly #onSwitch: (() => void | Promise<void>) | undefined;
  #current: { watcher: Watcher; events: boolean } | undefined;
  #timer: { cancel(): void } | undefined;

  constructor(options: {
    stream: () => Watcher;
    poll: () => Watcher;
    eventsOn: () => boolean;
    /** After a switch: what changed while neither source was looking. */
    onSwitch?: () => void | Promise<void>;
    clock?: Clock;
    logger?: Logger;
    checkMs?: number;
  }) {
    this.#make = { stream: options.stream, poll: options.poll };
    this.#onSwitch = options.onSwitch;
    this.#eventsOn = options.eventsOn;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'vch.status' });
    this.#checkMs = options.checkMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  /** Which source is in use: 'events' or 'poll'; undefined when stopped. */
  get mode(): 'events' | 'poll' | undefined {
    return this.#current ? (this.#current.events ? 'events' : 'poll') : undefined;
  }

  start(): void {
    if (this.#current) return;
    this.#follow();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#current?.watcher.stop();
    this.#current = undefined;
  }

  #follow(): void {
    const events = this.#eventsOn();
    if (this.#current?.events !== events) {
      if (this.#current) {
        this.#log.info(
          { from: this.mode, to: events ? 'events' : 'poll' },
          'container status source changed with the VCH’s events ability',
        );
      } else if (!events) {
        this.#log.info('the VCH has no event stream: container status comes from lists every second');
      }
      const switching = this.#current !== undefined;
      this.#current?.watcher.stop();
      const watcher = events ? this.#make.stream() : this.#make.poll();
      this.#current = { watcher, events };
      watcher.start();
      if (switching && this.#onSwitch) {
        const onSwitch = this.#onSwitch;
        Promise.resolve()
          .then(onSwitch)
          .catch((err: unknown) => this.#log.error({ err: messageOf(err) }, 'resync failed'));
      }
    }
    this.#timer = this.#clock.setTimeout(() => this.#follow(), this.#checkMs);
  }
}

export interface Watcher {
  start(): void;
  stop(): void;
}
