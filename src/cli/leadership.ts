// vic-kubelet as one of several replicas of a node (--leader-elect): a standby runs nothing but the
// election (no Node, no Lease of the node, no pods, no VCH, no kubelet port); the replica that wins
// the Lease vic-kubelet-<node> starts the daemon as a single replica would, adopting the pod VMs it
// finds on the VCH. A leader that can no longer prove it holds the Lease exits at once with code 75
// (EX_TEMPFAIL), so that nothing it had in flight acts afterwards; its supervisor starts it again and
// it comes back as a standby.
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { messageOf } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { runElection } from '../provider/leader/election-loop.js';
import { FencedKubeConfig, type Fence } from '../provider/leader/fence.js';
import { LeaseElector } from '../provider/leader/lease-elector.js';
import { renewDeadlineSeconds, type Config } from './config.js';
import type { Daemon, DaemonFencing } from './daemon.js';

/** Exit code of a leader that lost its Lease (sysexits.h EX_TEMPFAIL: try again). */
export const leadershipLostExitCode = 75;

/** How often a leader checks its deadline even when it makes no request (a woken process, say). */
const watchdogIntervalMs = 200;

export function leaseNameOf(nodeName: string): string {
  return `vic-kubelet-${nodeName}`;
}

export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}`;
}

export interface CandidateOptions {
  config: Config;
  logger: Logger;
  /** A plain KubeConfig for the election itself (it must work while standing by). */
  kubeConfig: KubeConfig;
  /** Loads the cluster's configuration into the KubeConfig the daemon will use (a fenced one). */
  loadKubeConfig: (into: KubeConfig) => void;
  /** Starts the daemon with a fenced KubeConfig and a fence for its VCH client. */
  startDaemon: (fencing: DaemonFencing) => Daemon;
  /** process.exit, unless a test injects another. */
  exit?: (code: number) => never;
}

export interface Candidate {
  /** The daemon, once this replica leads. */
  daemon(): Daemon | undefined;
  /** A clean stop: the daemon first, then the Lease is given up for a standby to take at once. */
  stop(): Promise<void>;
}

export function runCandidate(options: CandidateOptions): Candidate {
  const { config, logger } = options;
  const le = config.leaderElection;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const elector = new LeaseElector({
    api: options.kubeConfig.makeApiClient(CoordinationV1Api),
    namespace: le.namespace,
    name: leaseNameOf(config.nodeName),
    identity: le.identity ?? defaultIdentity(),
    leaseDurationMs: le.leaseDurationSeconds * 1000,
    renewDeadlineMs: renewDeadlineSeconds(le.leaseDurationSeconds) * 1000,
    monotonic: () => performance.now(),
    logger,
  });
  const log = logger.child({ component: 'leader-election', lease: elector.describe() });
  const abort = new AbortController();
  let daemon: Daemon | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  const lost = (reason: string): never => {
    // Synchronous to the end: nothing else runs between this check and the exit.
    log.fatal(
      { identity: elector.identity, reason, exitCode: leadershipLostExitCode },
      'lost the leader election lease: exiting so that only the new leader acts',
    );
    return exit(leadershipLostExitCode);
  };
  const fence: Fence = () => {
    if (!elector.isLeading()) lost('the lease may have passed to another replica (renew deadline passed)');
  };

  log.info(
    {
      identity: elector.identity,
      leaseDurationSeconds: le.leaseDurationSeconds,
      renewIntervalSeconds: le.renewIntervalSeconds,
    },
    'leader election: standing by until this replica holds the lease',
  );
  const election = runElection({
    elector,
    renewIntervalMs: le.renewIntervalSeconds * 1000,
    retryIntervalMs: le.renewIntervalSeconds * 1000,
    signal: abort.signal,
    logger,
    onStartedLeading: () => {
      watchdog = setInterval(fence, watchdogIntervalMs);
      watchdog.unref();
      recordBecameLeader(options.kubeConfig, elector, config.nodeName, log);
      const kc = new FencedKubeConfig(fence);
      options.loadKubeConfig(kc);
      daemon = options.startDaemon({ kubeConfig: kc, fence });
      daemon.ready.then(
        () => log.info({ node: config.nodeName }, 'node ready'),
        (err: unknown) => {
          log.fatal({ err: messageOf(err) }, 'vic-kubelet could not start');
          exit(1);
        },
      );
    },
    onStoppedLeading: (reason) => lost(reason),
  });
  election.catch((err: unknown) => lost(`leader election failed: ${messageOf(err)}`));

  return {
    daemon: () => daemon,
    async stop() {
      await daemon?.stop();
      abort.abort();
      if (watchdog) clearInterval(watchdog);
      await election.catch(() => undefined);
      await elector.release();
    },
  };
}

/** An Event on the Lease, as client-go's resource lock records "became leader". */
function recordBecameLeader(kc: KubeConfig, elector: LeaseElector, nodeName: string, log: Logger): void {
  const [namespace, name] = elector.describe().split('/') as [string, string];
  const now = new Date();
  kc.makeApiClient(CoreV1Api)
    .createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name },
        reason: 'LeaderElection',
        message: `${elector.identity} became leader of node ${nodeName}`,
        type: 'Normal',
        source: { component: 'vic-kubelet' },
        reportingComponent: 'vic-kubelet',
        reportingInstance: elector.identity,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    })
    .catch((err: unknown) => log.warn({ err: messageOf(err) }, 'leader election event not recorded'));
}
