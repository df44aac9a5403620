// A container probe as the prober runs it: the handler (exec, httpGet, tcpSocket, grpc) with its
// port resolved, and the timing fields with the API's defaults (pkg/apis/core/v1/defaults.go).
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export type ProbeType = 'liveness' | 'readiness' | 'startup';

export type ProbeHandler =
  | { kind: 'exec'; command: string[] }
  | {
      kind: 'httpGet';
      scheme: 'HTTP' | 'HTTPS';
      host?: string;
      port: number;
      path: string;
      headers: Array<{ name: string; value: string }>;
    }
  | { kind: 'tcpSocket'; host?: string; port: number }
  | { kind: 'grpc'; port: number; service: string };

export interface ProbeSpec {
  type: ProbeType;
  handler: ProbeHandler;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** The probe's own terminationGracePeriodSeconds, for a restart after a failed liveness/startup probe. */
  terminationGracePeriodSeconds?: number;
}

/** A named port of the container, else the number; undefined when a name matches nothing. */
export function resolvePort(port: number | string | undefined, container: V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function handlerOf(probe: V1Probe, container: V1Container): ProbeHandler | string {
  if (probe.exec) return { kind: 'exec', command: probe.exec.command ?? [] };
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, container);
    if (port === undefined)
      return `httpGet port ${String(probe.httpGet.port)} is not a port of the container`;
    const path = probe.httpGet.path ?? '/';
    return {
      kind: 'httpGet',
      scheme: probe.httpGet.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP',
      ...(probe.httpGet.host ? { host: probe.httpGet.host } : {}),
      port,
      path: path.startsWith('/') ? path : `/${path}`,
      headers: (probe.httpGet.httpHeaders ?? []).map((h) => ({ name: h.name, value: h.value })),
    };
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, container);
    if (port === undefined)
      return `tcpSocket port ${String(probe.tcpSocket.port)} is not a port of the container`;
    return { kind: 'tcpSocket', ...(probe.tcpSocket.host ? { host: probe.tcpSocket.host } : {}), port };
  }
  if (probe.grpc) return { kind: 'grpc', port: probe.grpc.port, service: probe.grpc.service ?? '' };
  return 'the probe has no handler';
}

/** The probe as the prober runs it, or why it cannot be run. */
export function probeSpec(type: ProbeType, probe: V1Probe, container: V1Container): ProbeSpec | string {
  const handler = handlerOf(probe, container);
  if (typeof handler === 'string') return handler;
  const grace = probe.terminationGracePeriodSeconds;
  return {
    type,
    handler,
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, probe.timeoutSeconds ?? 1) * 1000,
    // Liveness and startup probes must have a successThreshold of 1 (API validation).
    successThreshold: type === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1,
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
    ...(grace !== undefined && grace !== null ? { terminationGracePeriodSeconds: grace } : {}),
  };
}

/** The probes a container declares, by type. */
export function containerProbes(container: V1Container): Array<{ type: ProbeType; probe: V1Probe }> {
  const found: Array<{ type: ProbeType; probe: V1Probe }> = [];
  if (container.startupProbe) found.push({ type: 'startup', probe: container.startupProbe });
  if (container.livenessProbe) found.push({ type: 'liveness', probe: container.livenessProbe });
  if (container.readinessProbe) found.push({ type: 'readiness', probe: container.readinessProbe });
  return found;
}
