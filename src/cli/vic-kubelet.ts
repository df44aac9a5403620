#!/usr/bin/env node
// The vic-kubelet daemon: flags, VK_* environment variables and an optional JSON config file become
// one validated Config; then the node, the pod controller and the kubelet API run until SIGTERM or
// SIGINT. An uncaught exception ends the process (process-guard.ts): its supervisor restarts it.
import { createLogger } from '../shared/logger.js';
import { messageOf } from '../shared/errors.js';
import { productVersion } from '../shared/version.js';
import type { Config } from './config.js';
import { loadKubeConfig, startDaemon, type Daemon } from './daemon.js';
import { startHealthz } from './healthz.js';
import { runCandidate } from './leadership.js';
import { parseArgs } from './flags.js';
import { resolveLogFormat, textLogStream } from './log-lines.js';
import { guardProcess } from './process-guard.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseArgs(process.argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    // commander has already printed its own usage errors; ours (validation) are printed here.
    if (!code?.startsWith('commander.')) process.stderr.write(`vic-kubelet: ${messageOf(err)}\n`);
    process.exit(2);
  }
  const format = resolveLogFormat(config.logFormat, {
    isTTY: process.stdout.isTTY === true,
    inCluster: process.env.KUBERNETES_SERVICE_HOST !== undefined,
  });
  const logger = createLogger({
    level: config.logLevel,
    ...(format === 'text' ? { destination: textLogStream(process.stdout) } : {}),
  });
  logger.info(
    { version: productVersion, node: config.nodeName, vch: config.vch.endpoint, port: config.kubelet.port },
    'starting vic-kubelet',
  );
  // Before anything else, so that a standby is Ready to its supervisor while it waits.
  if (config.healthz.port > 0) {
    await startHealthz({ ...config.healthz, logger }).catch((err: unknown) => {
      logger.fatal({ err: messageOf(err) }, 'vic-kubelet could not start: healthz port');
      process.exit(1);
    });
  }
  if (config.leaderElection.enabled) {
    const candidate = runCandidate({
      config,
      logger,
      kubeConfig: loadKubeConfig(config.kubeconfig),
      loadKubeConfig: (into) => loadKubeConfig(config.kubeconfig, into),
      startDaemon: (fencing) => startDaemon(config, logger, fencing),
    });
    guardProcess({ logger, stop: () => candidate.stop() });
    return;
  }
  let daemon: Daemon | undefined;
  guardProcess({ logger, stop: async () => daemon?.stop() });
  try {
    daemon = startDaemon(config, logger);
    await daemon.ready;
  } catch (err) {
    // Most often the kubelet port is taken, the kubeconfig or a certificate file is unreadable.
    logger.fatal({ err: messageOf(err) }, 'vic-kubelet could not start');
    process.exit(1);
  }
  logger.info({ node: config.nodeName }, 'node ready');
}

void main();
