// Keeps the virtual node alive in the API server: registers (or takes over) the Node, renews its
// Lease every 10 s, checks the VCH every few seconds, and patches Node status when it changes and at
// least once a minute. Every loop retries with capped back-off and never runs two calls at once.
// Time comes from an injected Clock, so the loops are tested with a fake one.
import { lookup } from 'node:dns/promises';
import type {
  CoordinationV1Api,
  CoreV1Api,
  V1Node,
  V1NodeCondition,
  V1Taint,
  VersionApi,
} from '@kubernetes/client-node';
import { Backoff, delay } from '../../shared/backoff.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { isConflict, messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { callApi } from '../kube/api-errors.js';
import { mergePatch, strategicMergePatch } from '../kube/patch.js';
import { conditionsChanged, desiredConditions, stampConditions } from './conditions.js';
import { reportedKubeletVersion } from './kubelet-version.js';
import { LeaseController } from './lease-controller.js';
import {
  nodeAllocatable,
  nodeCapacity,
  nodeObject,
  nodeStatus,
  taintAnnotation,
  vchMetadata,
} from './node-object.js';
import type { HostFacts, NodeConfig, VchHealth } from './types.js';
import type { NodeAllocatable } from '../pods/admission.js';
import { parseMilliCpu, parseQuantity } from '../resources/quantity.js';
import { productVersion } from '../../shared/version.js';

const defaultTaintKey = 'virtual-kubelet.io/provider';

/** What the node controller needs of the VCH. */
export interface NodeHostSource {
  hostFacts(): Promise<HostFacts>;
  checkHealth(): Promise<VchHealth>;
}

export interface NodeControllerIntervals {
  leaseRenewMs: number;
  healthCheckMs: number;
  statusReportMs: number;
}

export const defaultIntervals: NodeControllerIntervals = {
  leaseRenewMs: 10_000,
  healthCheckMs: 5_000,
  statusReportMs: 60_000,
};

export interface NodeControllerOptions {
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  host: NodeHostSource;
  config: NodeConfig;
  logger: Logger;
  /** The API server's /version: the reported kubeletVersion never claims a newer minor than it. */
  version?: Pick<VersionApi, 'getCode'>;
  intervals?: Partial<NodeControllerIntervals>;
  clock?: Clock;
  /** Whether the node name resolves (offers a Hostname address); DNS by default. */
  resolves?: (hostname: string) => Promise<boolean>;
}

export class NodeController {
  readonly #core: CoreV1Api;
  readonly #host: NodeHostSource;
  #config: NodeConfig;
  readonly #log: Logger;
  readonly #lease: LeaseController;
  readonly #intervals: NodeControllerIntervals;
  readonly #clock: Clock;
  readonly #version: Pick<VersionApi, 'getCode'> | undefined;
  readonly #resolves: (hostname: string) => Promise<boolean>;
  #nodeUid = '';
  #facts: HostFacts | undefined;
  /** The VCH reading the Node's labels and annotation show (JSON), to patch them when it changes. */
  #vchShown: string | undefined;
  #health: VchHealth = { reachable: true };
  #conditions: V1NodeCondition[] | undefined;
  #lastReport = 0;
  #hostnameResolves = false;
  #ready: Promise<void>;
  #markReady!: () => void;

  constructor(options: NodeControllerOptions) {
    this.#core = options.core;
    this.#host = options.host;
    this.#config = options.config;
    this.#log = options.logger.child({ component: 'node' });
    this.#lease = new LeaseController({ api: options.coordination, logger: this.#log });
    this.#intervals = { ...defaultIntervals, ...options.intervals };
    this.#clock = options.clock ?? systemClock;
    this.#version = options.version;
    this.#resolves = options.resolves ?? resolves;
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** Resolves once the Node is registered and its first status is posted. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** What pods may use here, as admission counts it; undefined until the VCH has been read. */
  allocatable(): NodeAllocatable | undefined {
    if (!this.#facts) return undefined;
    const a = nodeAllocatable(nodeCapacity(this.#config, this.#facts), this.#config.reserved);
    return {
      milliCpu: parseMilliCpu(a.cpu),
      memoryBytes: parseQuantity(a.memory),
      pods: parseQuantity(a.pods),
    };
  }

  /** The VCH's health as last seen: Ready follows it. */
  get health(): VchHealth {
    return this.#health;
  }

  /** Runs until the signal aborts. The Node and the pod VMs stay: a restart is not an outage. */
  async run(signal: AbortSignal): Promise<void> {
    await this.#retry('register the node', signal, () => this.#register());
    if (signal.aborted) return;
    await this.#retry('post node status', signal, () => this.#reportStatus(true));
    this.#markReady();
    await Promise.all([this.#leaseLoop(signal), this.#healthLoop(signal)]);
  }

  /** The kubeletVersion this node may claim next to the API server it talks to. */
  async #kubeletVersion(): Promise<string> {
    const configured = this.#config.kubeletVersion;
    if (!this.#version) return configured;
    const server = await callApi('read the API server version', () => this.#version!.getCode());
    const version = reportedKubeletVersion({
      configured,
      apiServer: server.gitVersion,
      product: productVersion,
    });
    if (version !== configured) {
      this.#log.info({ configured, apiServer: server.gitVersion, reported: version }, 'kubelet version set');
    }
    return version;
  }

  async #register(): Promise<void> {
    this.#config = { ...this.#config, kubeletVersion: await this.#kubeletVersion() };
    this.#facts = await this.#host.hostFacts();
    if (this.#facts.storageBytes === undefined && !this.#config.capacityOverrides['ephemeral-storage']) {
      this.#log.warn(
        'the VCH does not report its storage size: the node offers no ephemeral-storage; ' +
          'set it with --capacity ephemeral-storage=<size>',
      );
    }
    this.#hostnameResolves = await this.#resolves(this.#config.nodeName);
    const desired = nodeObject(this.#config, this.#facts);
    let node: V1Node;
    try {
      node = await callApi('create the node', () => this.#core.createNode({ body: desired }));
      this.#log.info({ node: this.#config.nodeName }, 'node registered');
    } catch (err) {
      if (!isConflict(err)) throw err;
      node = await this.#takeOver(desired);
      this.#log.info({ node: this.#config.nodeName }, 'existing node taken over');
    }
    this.#vchShown = JSON.stringify(this.#facts.vch ?? null);
    this.#nodeUid = node.metadata?.uid ?? '';
    this.#conditions = node.status?.conditions;
  }

  /** An existing Node keeps taints others put there (unreachable, not-ready); ours is set as configured. */
  async #takeOver(desired: V1Node): Promise<V1Node> {
    const name = this.#config.nodeName;
    const existing = await callApi('read the node', () => this.#core.readNode({ name }));
    // Ours are the taint configured now and the one an earlier run recorded it had set.
    const ours = new Set([
      defaultTaintKey,
      existing.metadata?.annotations?.[taintAnnotation],
      this.#config.taint?.key,
    ]);
    const others: V1Taint[] = (existing.spec?.taints ?? []).filter((t) => !ours.has(t.key));
    const patch = {
      metadata: { labels: desired.metadata?.labels, annotations: desired.metadata?.annotations },
      spec: { taints: [...others, ...(desired.spec?.taints ?? [])] },
    };
    return callApi('update the node', () => this.#core.patchNode({ name, body: patch }, mergePatch));
  }

  async #leaseLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: this.#intervals.leaseRenewMs });
    while (!signal.aborted) {
      try {
        await this.#lease.renew(
          { nodeName: this.#config.nodeName, nodeUid: this.#nodeUid },
          new Date(this.#clock.now()),
        );
        backoff.reset();
        await delay(this.#intervals.leaseRenewMs, signal, this.#clock);
      } catch (err) {
        this.#log.warn({ err: messageOf(err) }, 'lease renewal failed; retrying');
        await delay(backoff.next(), signal, this.#clock);
      }
    }
  }

  async #healthLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: this.#intervals.healthCheckMs });
    while (!signal.aborted) {
      await delay(this.#intervals.healthCheckMs, signal, this.#clock);
      if (signal.aborted) break;
      try {
        await this.#reportStatus(false);
        backoff.reset();
      } catch (err) {
        this.#log.warn({ err: messageOf(err) }, 'node status update failed; retrying');
        await delay(backoff.next(), signal, this.#clock);
      }
    }
  }

  /** Checks the VCH and patches the Node status when anything changed or the report is due. */
  async #reportStatus(force: boolean): Promise<void> {
    const health = await this.#host.checkHealth();
    if (health.reachable !== this.#health.reachable) {
      this.#log.info(
        { reachable: health.reachable, reason: health.reachable ? undefined : health.reason },
        'VCH health changed',
      );
    }
    this.#health = health;
    if (health.reachable) {
      try {
        this.#facts = await this.#host.hostFacts();
      } catch (err) {
        // The ping answered but /info did not: keep the last facts, say so, try again next round.
        this.#log.warn({ err: messageOf(err) }, 'cannot read the VCH facts; keeping the last ones');
      }
    }
    const facts = this.#facts;
    if (!facts) return;
    await this.#showVch(facts);
    const now = new Date(this.#clock.now());
    const conditions = stampConditions(desiredConditions(health, facts), this.#conditions, now);
    const due = this.#clock.now() - this.#lastReport >= this.#intervals.statusReportMs;
    if (!force && !due && !conditionsChanged(this.#conditions, conditions)) return;

    const status = nodeStatus({
      config: this.#config,
      facts,
      conditions,
      hostnameResolves: this.#hostnameResolves,
    });
    const name = this.#config.nodeName;
    const node = await callApi('patch node status', () =>
      this.#core.patchNodeStatus({ name, body: { status } }, strategicMergePatch),
    );
    this.#conditions = node.status?.conditions ?? conditions;
    this.#lastReport = this.#clock.now();
  }

  /** After the VCH was read again (it came back changed), the Node's labels and annotation follow. */
  async #showVch(facts: HostFacts): Promise<void> {
    const vch = facts.vch;
    const shown = JSON.stringify(vch ?? null);
    if (!vch || shown === this.#vchShown) return;
    const name = this.#config.nodeName;
    await callApi('update the node’s VCH labels', () =>
      this.#core.patchNode({ name, body: { metadata: vchMetadata(vch) } }, mergePatch),
    );
    this.#vchShown = shown;
    this.#log.info({ vch: vch.abilities }, 'node labels and annotation follow the VCH read again');
  }

  async #retry(action: string, signal: AbortSignal, work: () => Promise<void>): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    while (!signal.aborted) {
      try {
        await work();
        return;
      } catch (err) {
        const wait = backoff.next();
        this.#log.warn({ err: messageOf(err), retryInMs: wait }, `failed to ${action}; retrying`);
        await delay(wait, signal, this.#clock);
      }
    }
  }
}

async function resolves(hostname: string): Promise<boolean> {
  try {
    await lookup(hostname);
    return true;
  } catch {
    return false;
  }
}
