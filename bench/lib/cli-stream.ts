// Times a client command's output, as a user at a terminal would see it: the first byte on stdout
// after spawn, and the time to receive an expected number of bytes. Used on `kubectl` and `docker`
// alike, so that each side pays for its own client's start.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface StreamTiming {
  firstByteMs: number;
  /** Until `bytes` were received (or the command ended). */
  totalMs: number;
  bytes: number;
  exitCode: number | null;
}

export function timeCommand(options: {
  command: string;
  args: string[];
  /** Stop (SIGTERM the client) once this many stdout bytes arrived; otherwise wait for it to exit. */
  stopAfterBytes?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(options.command, options.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let firstByteMs = Number.NaN;
    let bytes = 0;
    let totalMs = Number.NaN;
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${options.command} ${options.args.join(' ')}: no end after ${options.timeoutMs ?? 120_000} ms; ` +
            `${bytes} bytes seen; stderr: ${stderr.slice(-500)}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (bytes === 0) firstByteMs = performance.now() - started;
      bytes += chunk.length;
      if (options.stopAfterBytes !== undefined && bytes >= options.stopAfterBytes && Number.isNaN(totalMs)) {
        totalMs = performance.now() - started;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (Number.isNaN(totalMs)) totalMs = performance.now() - started;
      if (options.stopAfterBytes === undefined && code !== 0) {
        reject(
          new Error(`${options.command} ${options.args.join(' ')} exited ${code}: ${stderr.slice(-500)}`),
        );
        return;
      }
      if (options.stopAfterBytes !== undefined && bytes < options.stopAfterBytes) {
        reject(
          new Error(
            `${options.command}: only ${bytes} of ${options.stopAfterBytes} bytes; stderr: ${stderr.slice(-500)}`,
          ),
        );
        return;
      }
      resolve({ firstByteMs, totalMs, bytes, exitCode: code });
    });
  });
}
