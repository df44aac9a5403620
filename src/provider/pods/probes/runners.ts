// The probe handlers as a kubelet runs them (pkg/probe/exec, http, tcp, grpc): exec inside the
// container through the VCH; httpGet, tcpSocket and grpc straight from vic-kubelet to the pod IP, so
// network probes cost the VCH nothing. Results and messages follow the kubelet's.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Writable } from 'node:stream';
import { systemClock, type Clock } from '../../../shared/clock.js';
import { messageOf } from '../../../shared/errors.js';
import { grpcHealthCheck } from './grpc-health.js';
import type { ProbeHandler } from './probe-spec.js';

export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeOutcome {
  result: ProbeResult;
  /** What the kubelet puts after "Liveness probe failed: ". Never the exec'd command or its arguments. */
  output: string;
}

export interface ProbeTarget {
  uid: string;
  containerName: string;
  /** The container's Docker ID, which the prober knows: an exec then needs no lookup on the VCH. */
  containerId?: string;
  podIP: string | undefined;
}

/** Runs a command in a container, its output written to `output`; aborting ends the session. */
export type ExecInContainer = (
  target: { uid: string; containerName: string; containerId?: string },
  command: string[],
  io: { stdout: Writable; stderr: Writable; tty: false; signal: AbortSignal },
) => Promise<{ exitCode: number }>;

/** The kubelet reads at most this much of a probe's output (pkg/probe/http/request.go maxRespBodyLength). */
const maxOutputBytes = 10 * 1024;
/** `kube-probe/<major>.<minor>`, as the kubelet's User-Agent. */
export const userAgent = 'kube-probe/1.37';

class Capped extends Writable {
  readonly chunks: Buffer[] = [];
  #size = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (this.#size < maxOutputBytes) {
      const part = chunk.subarray(0, maxOutputBytes - this.#size);
      this.chunks.push(part);
      this.#size += part.length;
    }
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** An abort signal that fires after `ms` on the given clock (a fake one in tests). */
function timeoutSignal(clock: Clock, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = clock.setTimeout(
    () => controller.abort(new DOMException('The probe timed out', 'TimeoutError')),
    ms,
  );
  return { signal: controller.signal, clear: () => timer.cancel() };
}

/** How a command run for a probe ended: its exit code and output, past its timeout, or not run. */
export type CommandEnd =
  | { kind: 'exited'; exitCode: number; output: string }
  | { kind: 'timedOut' }
  | { kind: 'error'; message: string };

/** Runs a command in the target container within `timeoutMs`, keeping at most 10 KiB of its output. */
export async function runCommand(
  exec: ExecInContainer,
  target: ProbeTarget,
  command: string[],
  options: { timeoutMs: number; clock?: Clock },
): Promise<CommandEnd> {
  const out = new Capped();
  const timeout = timeoutSignal(options.clock ?? systemClock, options.timeoutMs);
  const signal = timeout.signal;
  try {
    const { exitCode } = await exec(target, command, { stdout: out, stderr: out, tty: false, signal });
    if (signal.aborted) return { kind: 'timedOut' };
    return { kind: 'exited', exitCode, output: out.text() };
  } catch (err) {
    if (signal.aborted) return { kind: 'timedOut' };
    return { kind: 'error', message: messageOf(err) };
  } finally {
    timeout.clear();
  }
}

export async function runExec(
  exec: ExecInContainer,
  target: ProbeTarget,
  command: string[],
  options: { timeoutMs: number; clock?: Clock },
): Promise<ProbeOutcome> {
  const end = await runCommand(exec, target, command, options);
  switch (end.kind) {
    case 'timedOut':
      return { result: 'failure', output: `command timed out after ${options.timeoutMs / 1000}s` };
    case 'error':
      return { result: 'unknown', output: end.message };
    case 'exited':
      return { result: end.exitCode === 0 ? 'success' : 'failure', output: end.output };
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function runHttpGet(
  handler: Extract<ProbeHandler, { kind: 'httpGet' }>,
  podIP: string,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const host = handler.host ?? podIP;
  const scheme = handler.scheme === 'HTTPS' ? 'https' : 'http';
  const url = `${scheme}://${hostPort(host, handler.port)}${handler.path}`;
  const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: '*/*' };
  for (const h of handler.headers) headers[h.name] = h.value;
  const client = scheme === 'https' ? https : http;
  return new Promise((resolve) => {
    const req = client.get(url, {
      headers,
      timeout: timeoutMs,
      // The kubelet skips certificate verification for HTTPS probes.
      ...(scheme === 'https' ? { rejectUnauthorized: false } : {}),
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({
        result: 'failure',
        output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    }, timeoutMs);
    req.on('response', (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => clearTimeout(timer));
      clearTimeout(timer);
      // pkg/probe/http/http.go: 200 <= code < 400 is success.
      if (code >= 200 && code < 400) resolve({ result: 'success', output: '' });
      else resolve({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ result: 'failure', output: `Get "${url}": ${dialMessage(host, handler.port, err)}` });
    });
  });
}

function dialMessage(host: string, port: number, err: NodeJS.ErrnoException): string {
  const where = `dial tcp ${hostPort(host, port)}`;
  if (err.code === 'ECONNREFUSED') return `${where}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `${where}: connect: no route to host`;
  if (err.code === 'ETIMEDOUT') return `${where}: i/o timeout`;
  return `${where}: ${err.message}`;
}

export function runTcpSocket(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ result: 'failure', output: `dial tcp ${hostPort(host, port)}: i/o timeout` }),
      timeoutMs,
    );
    socket.once('connect', () => finish({ result: 'success', output: '' }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish({ result: 'failure', output: dialMessage(host, port, err) }),
    );
  });
}

/** Runs one probe handler against a container. */
export async function runProbe(
  handler: ProbeHandler,
  target: ProbeTarget,
  options: { timeoutMs: number; exec: ExecInContainer; clock?: Clock },
): Promise<ProbeOutcome> {
  const { timeoutMs } = options;
  if (handler.kind === 'exec') {
    return runExec(options.exec, target, handler.command, {
      timeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }
  const podIP = target.podIP;
  if (!podIP) return { result: 'unknown', output: 'the pod has no IP yet' };
  switch (handler.kind) {
    case 'httpGet':
      return runHttpGet(handler, podIP, timeoutMs);
    case 'tcpSocket':
      return runTcpSocket(handler.host ?? podIP, handler.port, timeoutMs);
    case 'grpc': {
      const health = await grpcHealthCheck({
        host: podIP,
        port: handler.port,
        service: handler.service,
        timeoutMs,
      });
      return health.serving
        ? { result: 'success', output: '' }
        : { result: 'failure', output: health.message };
    }
  }
}
