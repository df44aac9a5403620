// Log output a person can scan: on a terminal, each pino JSON event becomes one short line
// ("14:02:03.120 INFO  node ready node=vic-a"); piped, or inside a cluster, the JSON stays as it is
// for log collectors.
import { Writable } from 'node:stream';

export type LogFormat = 'auto' | 'json' | 'text';

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const levelColours: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
// Shown elsewhere on the line (time, level, message) or the same on every line (pid, hostname).
const implicitFields = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object' && 'message' in value) {
    // pino's error serializer: the message reads well on one line; the stack follows the line.
    return JSON.stringify(value.message);
  }
  return JSON.stringify(value);
}

/** One JSON log event as one text line (plus an error's stack, indented). Non-JSON passes through. */
export function formatLogLine(json: string, options: { colour?: boolean } = {}): string {
  let event: unknown;
  try {
    event = JSON.parse(json);
  } catch {
    return json;
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return json;
  const e = event as Record<string, unknown>;
  const level = typeof e.level === 'number' ? e.level : 30;
  const time = typeof e.time === 'number' ? new Date(e.time).toISOString().slice(11, 23) : '';
  let levelText = (levelNames[level] ?? String(level)).padEnd(5);
  if (options.colour) levelText = `\u001b[${levelColours[level] ?? '0'}m${levelText}\u001b[0m`;
  const fields = Object.entries(e)
    .filter(([key]) => !implicitFields.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  const message = typeof e.msg === 'string' ? e.msg : '';
  let line = [time, levelText, message, ...fields].filter((part) => part !== '').join(' ');
  const err = e.err as { stack?: unknown } | undefined;
  if (level >= 50 && err && typeof err === 'object' && typeof err.stack === 'string') {
    line += '\n' + err.stack.replace(/^/gm, '    ');
  }
  return line;
}

/** A destination for pino that writes formatted lines to `out`. */
export function textLogStream(out: NodeJS.WritableStream & { isTTY?: boolean }): Writable {
  const colour = out.isTTY === true && process.env.NO_COLOR === undefined;
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      const text = lines.map((l) => formatLogLine(l, { colour }) + '\n').join('');
      if (text) out.write(text);
      done();
    },
  });
}

/** `auto` is text on a terminal outside a cluster, JSON otherwise. */
export function resolveLogFormat(
  format: LogFormat,
  context: { isTTY: boolean; inCluster: boolean },
): 'json' | 'text' {
  if (format !== 'auto') return format;
  return context.isTTY && !context.inCluster ? 'text' : 'json';
}
