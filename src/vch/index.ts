// The VCH as the provider sees it: one facade, a handful of small role interfaces, plain data in and out.
import type { Duplex, Readable } from 'node:stream';
import type { Clock } from '../shared/clock.js';
import { VicError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { ProcessIdentities } from './process-identity.js';
import { detectProfile, profileSummary, type ProfileOverrides, type VchProfile } from './abilities.js';
import { createClient, type TlsOptions, type VchClient } from './client.js';
import { Sessions, type AttachIO, type ExecTarget, type ExitResult } from './exec.js';
import { EventWatcher, type EventWatcherOptions } from './events.js';
import { hostFacts, hostHealth, type HostFacts, type HostHealth } from './host.js';
import { Images, type EnsureImageOptions, type ImageInfo } from './images.js';
import { latestMembers, listPodVms } from './list.js';
import { Logs, type LogOptions, type LogTarget } from './logs.js';
import { readContainerFile } from './container-file.js';
import { sandboxFile } from './sandbox-file.js';
import { DEFAULT_SANDBOX_IMAGE, PodVms, type MemberAttempt } from './pod-vm.js';
import { PortForwarder, type PortForwardOptions } from './port-forward.js';
import { StatsCollector, type ContainerStats } from './stats.js';
import { emptyVmPerPodStatus, StatusReader } from './status.js';
import type { PodIdentity, PodVm, PodVmMember, PodVmSpec, PodVmStatus, Resources } from './types.js';
import { updateResources } from './update.js';
import { PodVolumes } from './volumes.js';
import { VolumeStore } from './volume-store.js';
import { StatePoller, StatusSource } from './state-poller.js';

export type * from './types.js';
export type { AttachIO, ExecTarget, ExitResult } from './exec.js';
export type { VchEvent } from './events.js';
export type { HostFacts, HostHealth } from './host.js';
export type { ImageInfo, EnsureImageOptions } from './images.js';
export type { LogOptions, LogTarget } from './logs.js';
export type { ContainerStats } from './stats.js';
export type { TlsOptions } from './client.js';
export type {
  LayoutChoice,
  ProfileOverrides,
  VchAbilities,
  VchIdentity,
  VchProfile,
  VchProduct,
} from './abilities.js';
export { abilityNames, profileSummary } from './abilities.js';
export { appliedFrom, resourcesFrom, sameApplied } from './update.js';
export type { LayoutLimits, LayoutSettings, PodLayoutName, VmSize, VmSizing } from './layout/limits.js';
export { podLayoutNames, vmSizeFor } from './layout/limits.js';
export { DEFAULT_GRACE_SECONDS, DEFAULT_SANDBOX_IMAGE, type MemberAttempt } from './pod-vm.js';
export { LABEL_PREFIX, Label } from './labels.js';

/**
 * Creating, running and removing pod VMs, sized to what the pod controller calls; every method is
 * safe to repeat.
 */
export interface PodVmLifecycle {
  /** Every pod VM of the node, or only those of the pod with this namespace and name. */
  list(of?: { namespace: string; name: string }): Promise<PodVm[]>;
  /**
   * The pod VM's status. Given the pod, a layout without sandbox containers (vm-per-pod) reports a pod
   * VM with no container yet as its running virtual sandbox, so the caller moves on to the containers.
   */
  status(uid: string, pod?: PodIdentity): Promise<PodVmStatus | undefined>;
  ensureSandbox(spec: PodVmSpec): Promise<PodVmMember>;
  createContainer(spec: PodVmSpec, name: string, attempt?: number | MemberAttempt): Promise<PodVmMember>;
  startContainer(id: string): Promise<void>;
  /** Changes a running container's CPU and memory in place (an in-place pod resize). */
  updateResources(id: string, resources: Resources): Promise<void>;
  /** Stops one container: its stop signal, then SIGKILL after the grace period (a liveness restart). */
  stopContainer(id: string, gracePeriodSeconds: number): Promise<void>;
  stop(uid: string, gracePeriodSeconds?: number): Promise<void>;
  remove(uid: string): Promise<void>;
  /** At most `maxBytes` of a file in a container, stopped or running; undefined when there is none. */
  readFile(id: string, path: string, maxBytes: number): Promise<string | undefined>;
  /**
   * A fresh empty file kept in the sandbox's filesystem, as a host path a container can bind-mount
   * (a file that outlives the container); undefined when the VCH's storage cannot give one.
   */
  sandboxFile(sandboxId: string, name: string): Promise<string | undefined>;
}

/** Whole-pod-VM shortcuts for tools and tests that drive the VCH without a pod controller. */
export interface PodVmShortcuts {
  get(uid: string): Promise<PodVm | undefined>;
  create(spec: PodVmSpec): Promise<PodVm>;
  start(uid: string): Promise<void>;
  waitContainer(id: string, signal?: AbortSignal): Promise<{ exitCode: number }>;
}

/** The streaming requests of the kubelet API. */
export interface PodVmStreams {
  logs(target: LogTarget, options?: LogOptions): Promise<Readable>;
  exec(target: ExecTarget, command: string[], io: AttachIO): Promise<ExitResult>;
  attach(target: ExecTarget, io: AttachIO): Promise<ExitResult | undefined>;
  portForward(uid: string, port: number): Promise<Duplex>;
}

/** A pod's volumes on the VCH and their content (issue 10). */
export interface VchVolumes {
  ensure: PodVolumes['ensure'];
  write: PodVolumes['write'];
  forget(sandboxId: string): void;
}
export type { VolumeWrites } from './volumes.js';
export type { StoreDriver, StoreVolume, StoreVolumeSpec, VolumeUser } from './volume-store.js';
export type { VolumeStore } from './volume-store.js';

export interface VchHost {
  facts(): Promise<HostFacts>;
  health(timeoutMs?: number): Promise<HostHealth>;
}

/** What the VCH is and can do, and the pod layout that follows (src/vch/abilities.ts). */
export interface VchKnowledge {
  /** Reads it from the VCH (again); logs it when it is new or changed. */
  detect(): Promise<VchProfile>;
  /** The last answer of detect(), if any. */
  current(): VchProfile | undefined;
}

export interface VchImages {
  ensure(image: string, options?: EnsureImageOptions): Promise<ImageInfo>;
  inspect(image: string): Promise<ImageInfo | undefined>;
}

export interface PodStats {
  pod: PodIdentity;
  containers: { name: string; stats: ContainerStats }[];
}

export interface VchStats {
  /** The stats of several pods from one list of the node's pod VMs; a pod without a pod VM is absent. */
  pods(uids: readonly string[]): Promise<Map<string, PodStats>>;
}

export type WatchOptions = Omit<EventWatcherOptions, 'nodeName' | 'clock' | 'logger'>;

export interface VchOptions {
  /** DOCKER_HOST-style: unix:///path, tcp://host:port, https://host:port. */
  endpoint: string;
  tls?: TlsOptions;
  apiVersion?: string;
  nodeName: string;
  /** The image of every pod VM's sandbox; `vic-test/pause:latest` is only the tests' default. */
  sandboxImage?: string;
  portForward?: PortForwardOptions;
  pullTimeoutMs?: number;
  /** The operator's word over detection: a pod layout, and abilities the VCH has or lacks. */
  profile?: ProfileOverrides;
  clock?: Clock;
  logger?: Logger;
}

export class Vch {
  readonly client: VchClient;
  readonly nodeName: string;
  readonly pods: PodVmLifecycle & PodVmShortcuts;
  readonly streams: PodVmStreams;
  readonly host: VchHost;
  readonly images: VchImages;
  readonly stats: VchStats;
  readonly knowledge: VchKnowledge;
  readonly volumes: VchVolumes;
  /** Volumes that outlive pods, on the VCH's volume stores (persistent volumes, issue 16). */
  readonly volumeStore: VolumeStore;
  readonly #collector: StatsCollector;
  readonly #watchers = new Set<StatusSource>();
  readonly #clock: Clock | undefined;
  readonly #logger: Logger;

  constructor(options: VchOptions) {
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock;
    this.client = createClient({
      endpoint: options.endpoint,
      logger: this.#logger,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.apiVersion ? { apiVersion: options.apiVersion } : {}),
    });
    this.nodeName = options.nodeName;
    const images = new Images(
      this.client,
      options.pullTimeoutMs ? { pullTimeoutMs: options.pullTimeoutMs } : {},
    );
    const knowledge = new Knowledge(this.client, options.profile ?? {}, this.#logger);
    this.knowledge = knowledge;
    const layout = async () => (knowledge.current() ?? (await knowledge.detect())).layout;
    const podVms = new PodVms(this.client, images, {
      nodeName: options.nodeName,
      logger: this.#logger,
      layout,
      ...(options.sandboxImage ? { sandboxImage: options.sandboxImage } : {}),
    });
    const statusReader = new StatusReader(this.client, options.nodeName, {
      // The process identity needs the image's files: only where the VCH serves archives.
      identities: new ProcessIdentities(this.client, {
        enabled: () => knowledge.current()?.abilities.archives !== false,
      }),
    });
    const logs = new Logs(this.client, options.nodeName);
    const sessions = new Sessions(this.client, options.nodeName, this.#logger);
    const forwarder = new PortForwarder(this.client, options.nodeName, sessions, options.portForward);
    this.#collector = new StatsCollector(this.client, {
      logger: this.#logger,
      ...(options.clock ? { clock: options.clock } : {}),
    });

    this.images = images;
    this.pods = {
      list: (of) => podVms.list(of),
      get: (uid) => podVms.get(uid),
      status: async (uid, pod) =>
        (await statusReader.podVmStatus(uid)) ??
        (pod && (await layout()) === 'vm-per-pod' ? emptyVmPerPodStatus(pod, options.nodeName) : undefined),
      create: (spec) => podVms.create(spec),
      ensureSandbox: (spec) => podVms.ensureSandbox(spec),
      createContainer: async (spec, name, attempt) => {
        const member = await podVms.createContainer(spec, name, attempt);
        // The process identity is read while the container starts, not when its first status is
        // (the archive reads cost that status about 130 ms of a pod's start-up, measured).
        statusReader.prefetchUser(member.id);
        return member;
      },
      start: (uid) => podVms.start(uid),
      startContainer: (id) => podVms.startContainer(id),
      waitContainer: (id, signal) => podVms.waitContainer(id, signal),
      stop: (uid, grace) => podVms.stop(uid, grace),
      stopContainer: (id, grace) => podVms.stopContainer(id, grace),
      updateResources: (id, resources) => updateResources(this.client, id, resources),
      remove: (uid) => podVms.remove(uid),
      readFile: (id, path, maxBytes) => readContainerFile(this.client, id, path, maxBytes),
      sandboxFile: (sandboxId, name) => sandboxFile(this.client, sandboxId, name),
    };
    this.streams = {
      logs: (target, opts) => logs.read(target, opts),
      exec: async (target, command, io) => {
        // A VCH without exec (VIC before 1.2, or the operator's word) gets a clear answer, not a 404.
        if (knowledge.current()?.abilities.exec === false) {
          throw new VicError('Invalid', 'this VCH cannot run a command in a container (exec ability off)');
        }
        return sessions.exec(target, command, io);
      },
      attach: (target, io) => sessions.attach(target, io),
      portForward: (uid, port) => forwarder.connect(uid, port),
    };
    let reachable = true;
    this.host = {
      // The Node is built from the facts: know the VCH before it, and again after it was away.
      facts: async () => {
        if (!knowledge.current()) await knowledge.detect();
        return hostFacts(this.client);
      },
      health: async (timeoutMs) => {
        const health = await hostHealth(this.client, timeoutMs);
        if (health.reachable && !reachable) {
          void knowledge
            .detect()
            .catch((err: unknown) => this.#logger.warn({ err }, 'VCH abilities not read'));
        }
        reachable = health.reachable;
        return health;
      },
    };
    this.stats = { pods: (uids) => this.#podsStats(uids) };
    const writerImage = options.sandboxImage ?? DEFAULT_SANDBOX_IMAGE;
    this.volumeStore = new VolumeStore(this.client, options.nodeName, async () =>
      (knowledge.current() ?? (await knowledge.detect())).identity.product === 'vic' ? 'vsphere' : 'local',
    );
    this.volumes = new PodVolumes(this.client, options.nodeName, {
      image: writerImage,
      ensure: (image) => images.ensure(image, { policy: 'IfNotPresent', credentials: [] }),
    });
  }

  /**
   * Starts the one event subscription of this node. The stats collector follows along: what it kept
   * of a container is dropped when the container dies.
   */
  watch(options: WatchOptions): { stop(): void } {
    const watcherOptions: EventWatcherOptions = {
      ...options,
      nodeName: this.nodeName,
      logger: this.#logger,
      ...(this.#clock ? { clock: this.#clock } : {}),
      onEvent: (event) => {
        if (event.action === 'die' || event.action === 'destroy') this.#collector.forget(event.containerId);
        options.onEvent(event);
      },
    };
    // The event stream, or lists when the VCH lacks it (abilities.events), following re-detection.
    const watcher = new StatusSource({
      stream: () => new EventWatcher(this.client, watcherOptions),
      poll: () => new StatePoller(this.client, watcherOptions),
      eventsOn: () => this.knowledge.current()?.abilities.events !== false,
      ...(options.onResync ? { onSwitch: options.onResync } : {}),
      logger: this.#logger,
      ...(this.#clock ? { clock: this.#clock } : {}),
    });
    this.#watchers.add(watcher);
    watcher.start();
    return {
      stop: () => {
        watcher.stop();
        this.#watchers.delete(watcher);
      },
    };
  }

  /** Stops every subscription this facade holds (events, stats). */
  close(): void {
    for (const w of this.#watchers) w.stop();
    this.#watchers.clear();
    this.#collector.close();
  }

  /**
   * One list of the node's pod VMs for the whole question, not one per pod: a scrape of N pods would
   * otherwise make the engine filter every container N times. Every container's sample is asked at
   * once (the engine answers one-shot stats on its collector's next pass, src/vch/stats.ts).
   */
  async #podsStats(uids: readonly string[]): Promise<Map<string, PodStats>> {
    const wanted = new Set(uids);
    const vms = (await listPodVms(this.client, this.nodeName)).filter((vm) => wanted.has(vm.pod.uid));
    const entries = await Promise.all(
      vms.map(async (vm) => {
        const running = latestMembers(vm).filter((m) => m.state === 'running');
        const samples = await Promise.all(
          running.map(async (m) => ({ name: m.name, stats: await this.#collector.get(m.id) })),
        );
        const containers = samples.filter(
          (s): s is { name: string; stats: ContainerStats } => s.stats !== undefined,
        );
        return [vm.pod.uid, { pod: vm.pod, containers }] as const;
      }),
    );
    return new Map(entries);
  }
}

export function createVch(options: VchOptions): Vch {
  return new Vch(options);
}

/** Detection, cached, logged once per change. */
class Knowledge implements VchKnowledge {
  readonly #client: VchClient;
  readonly #overrides: ProfileOverrides;
  readonly #logger: Logger;
  #current: VchProfile | undefined;
  #pending: Promise<VchProfile> | undefined;

  constructor(client: VchClient, overrides: ProfileOverrides, logger: Logger) {
    this.#client = client;
    this.#overrides = overrides;
    this.#logger = logger;
  }

  current(): VchProfile | undefined {
    return this.#current;
  }

  detect(): Promise<VchProfile> {
    this.#pending ??= detectProfile(this.#client, this.#overrides)
      .then((profile) => {
        const before = this.#current ? JSON.stringify(profileSummary(this.#current)) : undefined;
        const summary = profileSummary(profile);
        if (before !== JSON.stringify(summary)) this.#logger.info({ vch: summary }, 'VCH abilities');
        this.#current = profile;
        return profile;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }
}
