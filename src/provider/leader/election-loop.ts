// The rhythm of leader election (client-go's acquire and renew loops): a standby tries every
// retry interval until it wins; a leader renews every renew interval and stops leading the moment
// another holder shows up or its renew deadline passes. What "stop leading" means is the caller's:
// vic-kubelet exits, so that nothing it had in flight can act afterwards.
import type { Logger } from '../../shared/logger.js';
import type { LeaseElector } from './lease-elector.js';

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface ElectionLoopOptions {
  elector: LeaseElector;
  renewIntervalMs: number;
  retryIntervalMs: number;
  signal: AbortSignal;
  logger: Logger;
  /** Called once, when this replica wins the Lease. */
  onStartedLeading: () => void;
  /** Called once, when a leader can no longer prove that it holds the Lease. */
  onStoppedLeading: (reason: string) => void;
  /** Injected in unit tests. */
  sleep?: Sleep;
}

/** Waits; an abort ends the wait early (and quietly). The timer keeps the process alive meanwhile. */
export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Runs until aborted or until leadership is lost; resolves then. */
export async function runElection(options: ElectionLoopOptions): Promise<void> {
  const { elector, signal } = options;
  const log = options.logger.child({ component: 'leader-election', lease: elector.describe() });
  const wait = options.sleep ?? sleep;
  let lastHolder: string | undefined;

  // Standby: nothing but this loop runs until the Lease is won.
  while (!signal.aborted) {
    const round = await elector.tryAcquireOrRenew();
    if (round.outcome === 'leading') break;
    if (round.outcome === 'held' && round.holder !== lastHolder) {
      lastHolder = round.holder;
      log.info(
        { identity: elector.identity, leader: round.holder },
        'standing by: the lease is held by another replica',
      );
    }
    if (round.outcome === 'failed') log.debug({ reason: round.reason }, 'lease not acquired');
    await wait(options.retryIntervalMs, signal);
  }
  if (signal.aborted) return;
  log.info({ identity: elector.identity }, 'became leader');
  options.onStartedLeading();

  // Leader: renew, and stop at once when it cannot be proven that the Lease is still ours.
  let interval = options.renewIntervalMs;
  while (!signal.aborted) {
    await wait(interval, signal);
    if (signal.aborted) return;
    // Woken late (a paused process, a blocked loop): past the deadline, never renew again.
    if (!elector.isLeading()) {
      stop('the renew deadline passed before the next renewal (was the process paused?)');
      return;
    }
    const round = await elector.tryAcquireOrRenew();
    if (round.outcome === 'leading') {
      interval = options.renewIntervalMs;
      continue;
    }
    if (round.outcome === 'held') {
      stop(`the lease is held by ${round.holder}`);
      return;
    }
    if (!elector.isLeading()) {
      stop(`no renewal succeeded within the renew deadline (last error: ${round.reason})`);
      return;
    }
    log.warn({ reason: round.reason, leftMs: elector.leadershipLeftMs() }, 'lease renewal failed; retrying');
    interval = Math.min(options.retryIntervalMs, options.renewIntervalMs);
  }

  function stop(reason: string): void {
    log.error({ identity: elector.identity, reason }, 'stopped leading');
    options.onStoppedLeading(reason);
  }
}
