// What the vic-kubelet process does when something goes wrong outside every controller: an uncaught
// exception or an unhandled rejection leaves the daemon in an unknown state, so it is logged and the
// process exits non-zero; its supervisor (vic-machine, or the Deployment's restart policy) starts it
// again, and the state is rebuilt from the VCH and the API server. SIGTERM and SIGINT stop it cleanly.
import type { Logger } from '../shared/logger.js';
import { messageOf } from '../shared/errors.js';

/** Exit code after an uncaught exception or unhandled rejection. */
export const crashExitCode = 70; // EX_SOFTWARE, as sysexits.h names an internal error

export interface ProcessGuardOptions {
  logger: Logger;
  /** Stops the daemon; resolves when it is stopped. Called once, on the first signal. */
  stop: () => Promise<void>;
  /** How long a clean stop may take before the process leaves anyway. */
  stopTimeoutMs?: number;
  /** Injected in unit tests; process.exit otherwise. */
  exit?: (code: number) => void;
  /** The process to listen on (unit tests give an EventEmitter). */
  target?: Pick<NodeJS.Process, 'on'>;
}

export function guardProcess(options: ProcessGuardOptions): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const target = options.target ?? process;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    options.logger.info({ signal }, 'stopping; the Node and its pod VMs stay');
    const timer = setTimeout(() => {
      options.logger.error({ signal }, 'clean stop took too long; leaving anyway');
      exit(1);
    }, options.stopTimeoutMs ?? 30_000);
    timer.unref();
    options.stop().then(
      () => exit(0),
      (err: unknown) => {
        options.logger.error({ err: messageOf(err) }, 'unclean stop');
        exit(1);
      },
    );
  };
  const onCrash = (kind: string) => (err: unknown) => {
    options.logger.fatal(
      { err, exitCode: crashExitCode },
      `${kind}: exiting so that the supervisor restarts vic-kubelet (state is rebuilt from the VCH)`,
    );
    exit(crashExitCode);
  };
  target.on('SIGTERM', () => onSignal('SIGTERM'));
  target.on('SIGINT', () => onSignal('SIGINT'));
  target.on('uncaughtException', onCrash('uncaught exception'));
  target.on('unhandledRejection', onCrash('unhandled rejection'));
}
