// The connection to the VCH: builds dockerode from a DOCKER_HOST-style endpoint and turns every
// dockerode or socket error into a VicError, in this one place.
import { Agent as HttpsAgent } from 'node:https';
import type DockerModem from 'docker-modem';
// First: it keeps docker-modem from loading ssh2 (16 MiB of WebAssembly memory) for ssh:// hosts.
import './without-ssh.js';
import Docker from 'dockerode';
import { VicError, type ErrorCode } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';

export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Encrypt but do not verify the VCH's certificate (vic-machine --no-tlsverify; `docker --tls`). */
  insecureSkipVerify?: boolean;
}

export interface ClientOptions {
  /** `unix:///path/docker.sock`, a bare socket path, `tcp://host:port`, `http://...` or `https://...`. */
  endpoint: string;
  /** With tcp://, TLS is used when any of ca/cert/key is given (as `docker --tlsverify`). */
  tls?: TlsOptions;
  /** Pin the Docker API version (e.g. "1.41"); by default the server's own. */
  apiVersion?: string;
  logger?: Logger;
}

export interface VchClient {
  readonly docker: Docker;
  readonly endpoint: string;
  readonly logger: Logger;
}

export const DEFAULT_ENDPOINT = 'unix:///var/run/docker.sock';

type ModemOptions = Docker.DockerOptions & { host?: string | undefined; port?: number | string | undefined };

/** Parses an endpoint into dockerode options. Throws Invalid for anything else. */
export function modemOptions(endpoint: string, tls?: TlsOptions): ModemOptions {
  // dockerode merges in DOCKER_HOST from the environment: name every field so the endpoint we were
  // given is the one used, whatever the environment says.
  const base = {
    host: undefined,
    port: undefined,
    socketPath: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
  };
  if (endpoint.startsWith('/')) return { ...base, socketPath: endpoint, protocol: 'http' };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new VicError(
      'Invalid',
      `VCH endpoint "${endpoint}" is not a URL like unix:///path or tcp://host:port`,
      {
        cause,
      },
    );
  }
  if (url.protocol === 'unix:') {
    if (!url.pathname) throw new VicError('Invalid', `VCH endpoint "${endpoint}" names no socket path`);
    return { ...base, socketPath: decodeURIComponent(url.pathname), protocol: 'http' };
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const secure =
      url.protocol === 'https:' ||
      (tls !== undefined &&
        (tls.ca ?? tls.cert ?? tls.key ?? (tls.insecureSkipVerify || undefined)) !== undefined);
    const port = url.port || (secure ? '2376' : '2375');
    return {
      ...base,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port,
      protocol: secure ? 'https' : 'http',
      ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls?.key !== undefined ? { key: tls.key } : {}),
      ...(tls?.insecureSkipVerify ? { agent: new HttpsAgent({ rejectUnauthorized: false }) } : {}),
    };
  }
  throw new VicError(
    'Invalid',
    `VCH endpoint "${endpoint}" has scheme ${url.protocol}; use unix://, tcp:// or https://`,
  );
}

export function createClient(options: ClientOptions): VchClient {
  const docker = new Docker({
    ...modemOptions(options.endpoint, options.tls),
    ...(options.apiVersion ? { version: `v${options.apiVersion.replace(/^v/, '')}` } : {}),
  });
  return { docker, endpoint: options.endpoint, logger: options.logger ?? silentLogger };
}

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EACCES',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

interface DockerodeError {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
  json?: unknown;
}

/** The daemon's own sentence, without dockerode's "(HTTP code 404) no such container - " prefix. */
export function dockerMessage(err: unknown): string {
  const e = (err ?? {}) as DockerodeError;
  const json = e.json as { message?: unknown } | null | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  const message = typeof e.message === 'string' ? e.message : String(err);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as DockerodeError | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Classifies any error from a call to the VCH. `action` says what was being done, in words a user
 * reads in a pod event ("start container k8s_app_..."), and is the start of the message.
 */
export function toVicError(err: unknown, action: string, endpoint?: string): VicError {
  if (err instanceof VicError) return err;
  const e = (err ?? {}) as DockerodeError;
  const status = statusCodeOf(err);
  if (status !== undefined) {
    const code: ErrorCode =
      status === 404
        ? 'NotFound'
        : status === 409
          ? 'Conflict'
          : status === 400
            ? 'Invalid'
            : status === 401
              ? 'Unauthorized'
              : status === 403
                ? 'Forbidden'
                : status === 503
                  ? 'VchUnavailable'
                  : 'Internal';
    return new VicError(code, `${action}: ${dockerMessage(err)}`, {
      cause: err,
      details: { statusCode: status },
    });
  }
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') {
    return new VicError('Canceled', `${action}: canceled`, { cause: err });
  }
  if (e.name === 'TimeoutError') return new VicError('Timeout', `${action}: timed out`, { cause: err });
  if (e.code !== undefined && unreachableCodes.has(e.code)) {
    const where = endpoint ? ` at ${endpoint}` : '';
    return new VicError('VchUnavailable', `${action}: the VCH${where} is unreachable (${e.code})`, {
      cause: err,
      details: { errno: e.code },
    });
  }
  return new VicError('Internal', `${action}: ${dockerMessage(err)}`, { cause: err });
}

/** Runs one Docker call and classifies its failure. */
export async function call<T>(client: VchClient, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toVicError(err, action, client.endpoint);
  }
}

/** Like call, but a 404 answer is a normal outcome and becomes undefined. */
export async function callOrUndefined<T>(
  client: VchClient,
  action: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (statusCodeOf(err) === 404) return undefined;
    throw toVicError(err, action, client.endpoint);
  }
}

/** `/_ping` within timeoutMs; VchUnavailable or Timeout when the VCH does not answer. */
export async function ping(client: VchClient, timeoutMs = 5000): Promise<void> {
  try {
    // dockerode accepts an abortSignal on ping; its type declarations omit the options argument.
    const docker = client.docker as unknown as { ping(opts: { abortSignal: AbortSignal }): Promise<unknown> };
    await docker.ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as DockerodeError;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new VicError('Timeout', `ping the VCH at ${client.endpoint}: no answer within ${timeoutMs} ms`, {
        cause: err,
      });
    }
    throw toVicError(err, `ping the VCH at ${client.endpoint}`, client.endpoint);
  }
}

/**
 * A raw request through dockerode's modem, for what dockerode's methods do not give: a log stream
 * even without follow (dockerode buffers it whole), a hijacked socket for exec and attach.
 */
export function dial<T>(client: VchClient, action: string, options: DockerModem.DialOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client.docker.modem.dial(options, (err, result) => {
      if (err) reject(toVicError(err, action, client.endpoint));
      else resolve(result as T);
    });
  });
}
