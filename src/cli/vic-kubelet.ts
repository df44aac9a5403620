#!/usr/bin/env node
// The vic-kubelet daemon: flags and an optional JSON config file become one validated Config; then
// the node, the pod controller and the kubelet API run until SIGTERM or SIGINT.
import { createLogger } from '../shared/logger.js';
import { messageOf } from '../shared/errors.js';
import type { Config } from './config.js';
import { startDaemon } from './daemon.js';
import { parseArgs } from './flags.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseArgs(process.argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    process.stderr.write(`vic-kubelet: ${messageOf(err)}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel });
  logger.info(
    { node: config.nodeName, vch: config.vch.endpoint, port: config.kubelet.port },
    'starting vic-kubelet',
  );
  const daemon = startDaemon(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping; the Node and its pod VMs stay');
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: messageOf(err) }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  try {
    await daemon.ready;
  } catch (err) {
    // Most often the kubelet port is taken or a certificate file is unreadable: say so and leave.
    logger.fatal({ err: messageOf(err) }, 'vic-kubelet could not start');
    process.exit(1);
  }
  logger.info({ node: config.nodeName }, 'node ready');
}

void main();
