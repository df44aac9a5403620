// Structured logging: pino, one JSON event per line. Child loggers carry the component name.
import { pino, type Logger } from 'pino';

export type { Logger };

const redact = ['*.token', '*.password', '*.authorization', '*.Authorization', '*.auth', '*.key'];

export function createLogger(
  options: { level?: string; name?: string; destination?: pino.DestinationStream } = {},
): Logger {
  const settings = {
    name: options.name ?? 'vic-kubelet',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact,
  };
  // A destination (e.g. src/cli's line formatter for a terminal) receives the same JSON lines.
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that writes nothing: the default for library code and unit tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
