// The exec/attach query the kubelet receives from the API server: command=a&command=b&input=1&output=1
// &error=1&tty=1. Parsed once at the boundary into typed options.
import { VicError } from '../../shared/errors.js';

export interface ExecOptions {
  /** Empty for attach. */
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** Accepts a full URL or the request's path and query (req.url). */
export function parseExecOptions(url: string | URL): ExecOptions {
  const parsed = typeof url === 'string' ? new URL(url, 'http://kubelet.invalid') : url;
  const query = parsed.searchParams;
  // The API server always sends "1"; the kubelet accepts nothing else.
  const flag = (name: string): boolean => query.get(name) === '1';
  const tty = flag('tty');
  const stdin = flag('input');
  const stdout = flag('output');
  // A TTY merges stderr into stdout, so a stderr stream is never opened with one.
  const stderr = flag('error') && !tty;
  if (!stdin && !stdout && !stderr) {
    throw new VicError('Invalid', 'you must specify at least 1 of stdin, stdout, stderr');
  }
  return { command: query.getAll('command'), stdin, stdout, stderr, tty };
}
