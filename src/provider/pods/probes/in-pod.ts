// Network probes run from inside the pod VM, for a VCH whose pod network vic-kubelet cannot reach
// (a remote VCH): httpGet as `wget -S` and tcpSocket as `nc`, exec'd in the probed container itself,
// so they reach the pod IP from within its own network. An image without the tool fails the probe
// with a message that says so: a probe that could not run never passes.
import type { Clock } from '../../../shared/clock.js';
import type { ProbeHandler } from './probe-spec.js';
import {
  runCommand,
  userAgent,
  type ExecInContainer,
  type ProbeOutcome,
  type ProbeTarget,
} from './runners.js';

type NetworkHandler = Exclude<ProbeHandler, { kind: 'exec' }>;

export interface InPodOptions {
  exec: ExecInContainer;
  timeoutMs: number;
  clock?: Clock;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The command that runs the probe in the pod. No `-T` for wget: busybox's static build crashes on it;
 * the probe's timeout ends the exec session instead.
 */
export function inPodCommand(handler: NetworkHandler, host: string): string[] | undefined {
  switch (handler.kind) {
    case 'httpGet': {
      const scheme = handler.scheme === 'HTTPS' ? 'https' : 'http';
      const url = `${scheme}://${hostPort(handler.host ?? host, handler.port)}${handler.path}`;
      const headers = handler.headers.flatMap((h) => ['--header', `${h.name}: ${h.value}`]);
      // The kubelet skips certificate checks on HTTPS probes; busybox wget does not check them.
      return ['wget', '-q', '-S', '-O', '/dev/null', '-U', userAgent, ...headers, url];
    }
    case 'tcpSocket':
      return ['nc', '-w', '1', handler.host ?? host, String(handler.port)];
    case 'grpc':
      return undefined;
  }
}

/** The last status line wget -S printed (after redirects, as the kubelet follows them). */
export function lastHttpStatus(output: string): number | undefined {
  let code: number | undefined;
  for (const m of output.matchAll(/^\s*HTTP\/\d(?:\.\d)?\s+(\d{3})\b/gm)) code = Number(m[1]);
  return code;
}

/** The engine or the image could not start the tool: Docker's 126/127 and the runtime's words. */
function toolMissing(exitCode: number, output: string): boolean {
  return (
    exitCode === 126 ||
    exitCode === 127 ||
    /executable file not found|no such file or directory|not found in \$PATH/i.test(output)
  );
}

/** The first line of the tool's complaint, without its "wget: " or "nc: " prefix. */
function complaint(output: string): string {
  const line = output
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^(wget|nc): /.test(l));
  return (line ?? output.trim().split('\n')[0] ?? '').replace(/^(wget|nc): /, '');
}

export async function runInPod(
  handler: NetworkHandler,
  target: ProbeTarget,
  options: InPodOptions,
): Promise<ProbeOutcome> {
  const host = target.podIP ?? '127.0.0.1';
  const command = inPodCommand(handler, host);
  if (!command || handler.kind === 'grpc') {
    return {
      result: 'failure',
      output:
        'grpc probe cannot run inside the pod VM (no gRPC client there); make the pod network reachable from vic-kubelet and use --probe-network=direct',
    };
  }
  const tool = command[0]!;
  const to = hostPort(handler.host ?? host, handler.port);
  const where =
    handler.kind === 'httpGet'
      ? `Get "${handler.scheme === 'HTTPS' ? 'https' : 'http'}://${to}${handler.path}"`
      : `dial tcp ${to}`;
  const end = await runCommand(options.exec, target, command, {
    timeoutMs: options.timeoutMs,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  if (end.kind === 'timedOut') {
    return {
      result: 'failure',
      output:
        handler.kind === 'httpGet'
          ? `${where}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
          : `${where}: i/o timeout`,
    };
  }
  if (end.kind === 'error') {
    return { result: 'unknown', output: `${handler.kind} probe inside the pod VM: ${end.message}` };
  }
  if (handler.kind === 'httpGet') {
    const code = lastHttpStatus(end.output);
    // pkg/probe/http/http.go: 200 <= code < 400 is success.
    if (code !== undefined) {
      return code >= 200 && code < 400
        ? { result: 'success', output: '' }
        : { result: 'failure', output: `HTTP probe failed with statuscode: ${code}` };
    }
  } else if (end.exitCode === 0) {
    return { result: 'success', output: '' };
  }
  if (toolMissing(end.exitCode, end.output)) {
    return {
      result: 'failure',
      output: `${handler.kind} probe cannot run inside the pod VM: the container has no ${tool} (exit code ${end.exitCode})`,
    };
  }
  return {
    result: 'failure',
    output: `${where}: ${complaint(end.output) || `${tool} exited with ${end.exitCode}`}`,
  };
}
