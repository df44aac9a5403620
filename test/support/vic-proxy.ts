// A contract check for vSphere Integrated Containers: a Docker API proxy, on a unix socket of its own,
// in front of the real test engine. It identifies itself as a VIC VCH in /version and /info and refuses,
// with VIC's own error texts and status codes, every request VIC's Docker personality refuses or
// documents as unsupported. Everything else, streams included (attach and exec upgrades, logs that
// follow, events), passes through unchanged. It checks that the VIC layout asks for nothing VIC lacks;
// it is no substitute for VIC.
//
// Sources (vmware/vic, the docker personality):
// - lib/apiservers/engine/backends/container.go: validateCreateConfig (memory floor 512 MB, vCPUs from
//   --cpuset-cpus, one network endpoint, port bindings, "No command specified"), ContainerUpdate,
//   ContainerPause/Unpause, ContainerTop are "does not yet implement ...";
// - lib/apiservers/engine/errors/errors.go: APINotSupportedMsg, InvalidVolumeError, InternalServerError;
// - lib/apiservers/engine/proxy/storage_proxy.go: processVolumeParam (a host directory as a volume);
// - lib/apiservers/engine/backends/system.go, backends.go, cmd/docker/main.go: what /info and /version say;
// - vmware/vic-product docs/user_doc/vic_app_dev/container_operations.md: the supported options of
//   create/run (--attach, --cpuset-cpus, --env, --ip, --memory, --interactive, --link, --label,
//   --network, --tty, --volume), `--net=host` not supported, `network connect` not for running containers.
// VIC does not validate some HostConfig fields it cannot honour (IpcMode, PidMode, Privileged, CapAdd,
// Tmpfs, VolumesFrom, Mounts): it ignores them. Ignored is worse than refused for a contract check, so
// the proxy refuses them in VIC's own wording for what it lacks (APINotSupportedMsg: "<product> does not
// yet implement <what>", HTTP 500).
import { once } from 'node:events';
import type { TestFn } from 'ava';
import { mkdirSync, rmSync } from 'node:fs';
import {
  request as httpRequest,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { dirname } from 'node:path';

export const VIC_PRODUCT = 'vSphere Integrated Containers';
export const VIC_VERSION = '1.5.6';
/** VIC's Docker API (pkg/version/version.go DockerAPIVersion, DockerMinimumVersion). */
export const VIC_API_VERSION = '1.25';
const VIC_MIN_API_VERSION = '1.19';
const MIN_MEMORY_BYTES = 512 * 1024 * 1024;
// vmware/vic container.go: MemoryDefaultMB, MemoryAlignMB, DefaultCPUs.
const DEFAULT_MEMORY_BYTES = 2048 * 1024 * 1024;
const MEMORY_ALIGN_BYTES = 128 * 1024 * 1024;
const DEFAULT_CPUS = 2;
/** The MHz the proxy says each of the engine's CPUs is worth in /info's NCPU. */
export const VIC_MHZ_PER_ENGINE_CPU = 1000;

export interface Refusal {
  method: string;
  path: string;
  status: number;
  message: string;
}

export interface VicProxyOptions {
  /** The real engine's unix socket path. */
  upstream: string;
  /** Where to listen. */
  socket: string;
  /** A VCH without an event stream: /events answers 404, as an engine without the route. */
  refuseEvents?: boolean;
}

/**
 * Node arguments for a virtual node on the proxy whose pods run at VIC's default size: each pod with no
 * requests is a 2-vCPU, 2 GiB container VM, so the test machine's own 2 CPUs would hold one pod; a VCH's
 * resource pool is larger.
 */
export const VIC_POOL_CAPACITY = ['--capacity', 'cpu=64,memory=256Gi'];

/** VIC's "<product> does not yet implement <what>" (errors.go APINotSupportedMsg), a plain error: 500. */
export const notImplemented = (what: string): string => `${VIC_PRODUCT} does not yet implement ${what}`;

interface CreateBody {
  Cmd?: string[] | null;
  Entrypoint?: string[] | string | null;
  HostConfig?: {
    NetworkMode?: string;
    IpcMode?: string;
    PidMode?: string;
    Privileged?: boolean;
    CapAdd?: string[] | null;
    Tmpfs?: Record<string, string> | null;
    Binds?: string[] | null;
    Mounts?: unknown[] | null;
    VolumesFrom?: string[] | null;
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    Memory?: number;
    CpusetCpus?: string;
    NanoCpus?: number;
    [key: string]: unknown;
  };
  NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> | null } | null;
  [key: string]: unknown;
}

/** Why VIC would refuse this container create, or undefined; the body is not changed. */
export function refuseCreate(body: CreateBody): { status: number; message: string } | undefined {
  const host = body.HostConfig ?? {};
  const err500 = (message: string) => ({ status: 500, message });
  const mode = host.NetworkMode ?? '';
  if (mode.startsWith('container:'))
    return err500(notImplemented('NetworkMode container: (shared network namespaces)'));
  if (mode === 'host') return err500(notImplemented('NetworkMode host'));
  if (host.IpcMode && host.IpcMode !== 'private') return err500(notImplemented(`IpcMode ${host.IpcMode}`));
  if (host.PidMode) return err500(notImplemented(`PidMode ${host.PidMode}`));
  if (host.Privileged) return err500(notImplemented('privileged containers'));
  if (host.CapAdd?.length) return err500(notImplemented('CapAdd'));
  if (host.Tmpfs && Object.keys(host.Tmpfs).length) return err500(notImplemented('Tmpfs'));
  if (host.VolumesFrom?.length) return err500(notImplemented('VolumesFrom'));
  if (host.Mounts?.length) return err500(notImplemented('HostConfig.Mounts (use HostConfig.Binds)'));
  for (const bind of host.Binds ?? []) {
    // storage_proxy.go processVolumeParam: errors.InvalidVolumeError.
    if (bind.split(':').length > 1 && bind.startsWith('/')) {
      return err500('mounting directories as a data volume is not supported.');
    }
  }
  const endpoints = Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {});
  if (endpoints.length > 1) {
    return err500('NetworkMode error: Container can be connected to one vicnetwork endpoint only');
  }
  for (const list of Object.values(host.PortBindings ?? {})) {
    for (const pb of list ?? []) {
      if (pb.HostIp && pb.HostIp !== '0.0.0.0') {
        return err500(
          'Server error from portlayer: host IP for port bindings is only supported for 0.0.0.0 and the public interface IP address',
        );
      }
      if (pb.HostPort?.includes('-')) {
        return err500('Server error from portlayer: host port ranges are not supported for port bindings');
      }
    }
  }
  const entrypoint = typeof body.Entrypoint === 'string' ? [body.Entrypoint] : (body.Entrypoint ?? []);
  if (entrypoint.length === 0 && (body.Cmd ?? []).length === 0) {
    // VIC takes no command from the image here (vmware/vic issue 1378): 404.
    return { status: 404, message: 'No command specified' };
  }
  return undefined;
}

/**
 * What VIC makes of the sizes it accepts, for the real engine behind (validateCreateConfig): `--cpuset-cpus`
 * is a vCPU count (a NanoCpus limit here), 2 when not given; memory is 2 GiB when not given, raised to
 * 512 MiB, and aligned up to 128 MiB.
 */
export function translateCreate(body: CreateBody): CreateBody {
  const host = { ...(body.HostConfig ?? {}) };
  const count = host.CpusetCpus ? Number.parseInt(host.CpusetCpus.split(',')[0] ?? '', 10) : DEFAULT_CPUS;
  delete host.CpusetCpus;
  // The engine behind has this machine's CPUs; VIC would give the VM as many vCPUs as asked.
  host.NanoCpus = Math.min(Math.max(1, count || DEFAULT_CPUS), cpus().length) * 1e9;
  const memory =
    host.Memory && host.Memory > 0 ? Math.max(MIN_MEMORY_BYTES, host.Memory) : DEFAULT_MEMORY_BYTES;
  host.Memory = Math.ceil(memory / MEMORY_ALIGN_BYTES) * MEMORY_ALIGN_BYTES;
  return { ...body, HostConfig: host };
}

function versionOf(path: string): { version?: string; rest: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  return m ? { version: m[1]!, rest: m[2]! } : { rest: path };
}

function newer(a: string, b: string): boolean {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 !== b1 ? a1 > b1 : a2 > b2;
}

/** Routes VIC does not have at all: "does not yet implement" (container.go, network.go, image.go ...). */
function unimplementedRoute(method: string, path: string): string | undefined {
  const routes: [string, RegExp, string][] = [
    ['POST', /^\/containers\/[^/]+\/update$/, 'ContainerUpdate'],
    ['POST', /^\/containers\/[^/]+\/pause$/, 'ContainerPause'],
    ['POST', /^\/containers\/[^/]+\/unpause$/, 'ContainerUnpause'],
    ['GET', /^\/containers\/[^/]+\/top$/, 'ContainerTop'],
    ['GET', /^\/containers\/[^/]+\/export$/, 'ContainerExport'],
    ['POST', /^\/containers\/prune$/, 'ContainersPrune'],
    ['POST', /^\/networks\/[^/]+\/disconnect$/, 'DisconnectContainerFromNetwork'],
    ['POST', /^\/networks\/prune$/, 'NetworksPrune'],
    ['POST', /^\/volumes\/prune$/, 'VolumesPrune'],
    ['POST', /^\/images\/prune$/, 'ImagesPrune'],
    ['GET', /^\/images\/[^/]+\/history$/, 'ImageHistory'],
    ['POST', /^\/build$/, 'BuildFromContext'],
    ['GET', /^\/system\/df$/, 'SystemDiskUsage'],
  ];
  return routes.find(([m, re]) => m === method && re.test(path))?.[2];
}

export class VicProxy {
  readonly socket: string;
  readonly upstream: string;
  /** Every request refused, in order: a run of the VIC layout should leave this empty. */
  readonly refused: Refusal[] = [];
  readonly refuseEvents: boolean;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(options: VicProxyOptions) {
    this.socket = options.socket;
    this.upstream = options.upstream;
    this.refuseEvents = options.refuseEvents ?? false;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#fail(res, 502, `vic-proxy: ${String(err)}`);
        else res.destroy();
      });
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.#pipeRaw(req, socket, head),
    );
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(options: VicProxyOptions): Promise<VicProxy> {
    mkdirSync(dirname(options.socket), { recursive: true });
    rmSync(options.socket, { force: true });
    const proxy = new VicProxy(options);
    proxy.#server.listen(options.socket);
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    return `unix://${this.socket}`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
    rmSync(this.socket, { force: true });
  }

  #refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    this.refused.push({ method: req.method ?? '', path: req.url ?? '', status, message });
    this.#fail(res, status, message);
  }

  #fail(res: ServerResponse, status: number, message: string): void {
    const body = JSON.stringify({ message });
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const { version, rest } = versionOf((req.url ?? '/').split('?')[0] ?? '/');
    if (version && newer(version, VIC_API_VERSION)) {
      // The API server's version middleware, as it answers any client newer than the server.
      return this.#refuse(
        req,
        res,
        400,
        `client version ${version} is too new. Maximum supported API version is ${VIC_API_VERSION}`,
      );
    }
    if (this.refuseEvents && method === 'GET' && rest === '/events') {
      return this.#refuse(req, res, 404, 'page not found');
    }
    const unimplemented = unimplementedRoute(method, rest);
    if (unimplemented) return this.#refuse(req, res, 500, notImplemented(unimplemented));
    if (method === 'GET' && (rest === '/info' || rest === '/version')) return this.#identity(req, res, rest);
    if (method === 'POST' && rest === '/containers/create') {
      const body = JSON.parse((await readAll(req)).toString('utf8') || '{}') as CreateBody;
      const refusal = refuseCreate(body);
      if (refusal) return this.#refuse(req, res, refusal.status, refusal.message);
      return this.#forward(req, res, Buffer.from(JSON.stringify(translateCreate(body))));
    }
    const connectTo = /^\/networks\/[^/]+\/connect$/.exec(rest);
    if (method === 'POST' && connectTo) {
      const raw = await readAll(req);
      const body = JSON.parse(raw.toString('utf8') || '{}') as { Container?: string };
      if (body.Container && (await this.#running(body.Container))) {
        // container_operations.md: network connect "Not supported for running containers."
        return this.#refuse(
          req,
          res,
          500,
          notImplemented('ConnectContainerToNetwork for a running container'),
        );
      }
      return this.#forward(req, res, raw);
    }
    return this.#forward(req, res);
  }

  /** Passes the request on; the body is streamed unless given, the answer always streamed. */
  #forward(req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers };
      if (body) {
        headers['content-length'] = String(body.length);
        delete headers['transfer-encoding'];
      }
      const up = httpRequest(
        { socketPath: this.upstream, method: req.method, path: req.url, headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          // flushHeaders: a follow or events stream must reach the client before its first line.
          res.flushHeaders();
          upRes.pipe(res);
          upRes.on('end', resolve);
          upRes.on('error', reject);
        },
      );
      up.on('error', reject);
      res.on('close', () => up.destroy());
      if (body) up.end(body);
      else req.pipe(up);
    });
  }

  async #identity(req: IncomingMessage, res: ServerResponse, what: string): Promise<void> {
    const upstream = JSON.parse((await this.#get(req.url ?? what)).toString('utf8')) as Record<
      string,
      unknown
    >;
    const body = what === '/info' ? vicInfo(upstream) : vicVersion(upstream);
    const text = JSON.stringify(body);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  async #running(container: string): Promise<boolean> {
    try {
      const info = JSON.parse(
        (await this.#get(`/containers/${encodeURIComponent(container)}/json`)).toString('utf8'),
      ) as { State?: { Running?: boolean } };
      return info.State?.Running === true;
    } catch {
      return false;
    }
  }

  #get(path: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const up = httpRequest({ socketPath: this.upstream, method: 'GET', path }, (r) => {
        readAll(r).then((b) => {
          if ((r.statusCode ?? 500) >= 400)
            reject(new Error(`GET ${path}: ${r.statusCode} ${b.toString('utf8')}`));
          else resolve(b);
        }, reject);
      });
      up.on('error', reject);
      up.end();
    });
  }

  /** Attach and exec start hijack the connection: the bytes go both ways untouched. */
  #pipeRaw(req: IncomingMessage, client: Socket, head: Buffer): void {
    this.#sockets.add(client);
    const upstream = connect(this.upstream);
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.on('connect', () => {
      // One write, as the client sent it: dockerd hijacks the connection after reading the request
      // head, and a body (docker-modem sends the attach options as JSON too) that arrives in a later
      // segment would be read as the process's stdin.
      upstream.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), head]));
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', end);
    client.on('error', end);
    upstream.on('close', end);
    client.on('close', end);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * /info as VIC answers it (system.go SystemInfo): ID is the product name, the driver its port layer
 * ("<product> <version> Backend Engine"), ServerVersion the product version, no kernel version; the
 * volume stores in SystemStatus. NCPU is the VCH's CPU limit in MHz, as VIC reports it (also in
 * SystemStatus as " VCH CPU limit"): here the engine's CPUs at 1000 MHz each, so vic-kubelet that
 * converts (src/vch/host.ts) sees the engine's real count, and one that does not sees thousands.
 */
export function vicInfo(upstream: Record<string, unknown>): Record<string, unknown> {
  const mhz = (typeof upstream.NCPU === 'number' ? upstream.NCPU : 1) * VIC_MHZ_PER_ENGINE_CPU;
  const memTotal = typeof upstream.MemTotal === 'number' ? upstream.MemTotal : 0;
  return {
    ...upstream,
    ID: VIC_PRODUCT,
    Driver: `${VIC_PRODUCT} v${VIC_VERSION} Backend Engine`,
    ServerVersion: `v${VIC_VERSION}`,
    KernelVersion: '',
    LoggingDriver: '',
    CgroupDriver: '',
    DockerRootDir: '',
    SystemStatus: [
      ['VolumeStores', 'default'],
      [`${VIC_PRODUCT} v${VIC_VERSION} Backend Engine`, 'RUNNING'],
      [' VCH CPU limit', `${mhz} MHz`],
      [' VCH memory limit', `${(memTotal / 2 ** 30).toFixed(3)} GiB`],
      [' VMware Product', 'VMware ESXi'],
      [' VMware OS', 'vmnix-x86'],
      [' VMware OS version', '6.7.0'],
    ],
    NCPU: mhz,
    OperatingSystem: 'vmnix-x86',
    OSType: 'vmnix-x86',
  };
}

/** /version as VIC answers it (system.go SystemVersion): API 1.25, no components. */
export function vicVersion(upstream: Record<string, unknown>): Record<string, unknown> {
  return {
    Version: VIC_VERSION,
    ApiVersion: VIC_API_VERSION,
    MinAPIVersion: VIC_MIN_API_VERSION,
    GitCommit: 'vic-proxy',
    GoVersion: upstream.GoVersion ?? 'go1.8',
    Os: 'linux',
    Arch: upstream.Arch ?? 'amd64',
    KernelVersion: '-',
    Experimental: true,
    BuildTime: '',
  };
}

/**
 * One VIC contract proxy for the tests of a file, in front of the test environment's engine. Call it
 * before virtualNodeForFile: its start hook must run first, and `endpoint` is known at once.
 */
export function vicProxyForFile(
  test: TestFn,
  upstreamEndpoint: string,
): { readonly endpoint: string; readonly proxy: VicProxy; restart(): Promise<void> } {
  const socket = `/var/tmp/${`vk-vic-${Math.random().toString(16).slice(2, 8)}`}/docker.sock`;
  let proxy: VicProxy | undefined;
  test.serial.before(async () => {
    proxy = await VicProxy.start({ upstream: upstreamEndpoint.replace(/^unix:\/\//, ''), socket });
  });
  test.after.always(async () => {
    await proxy?.close();
    rmSync(dirname(socket), { recursive: true, force: true });
  });
  return {
    endpoint: `unix://${socket}`,
    /** A new proxy on the same socket, as a VCH that comes back. */
    async restart() {
      await proxy?.close();
      proxy = await VicProxy.start({ upstream: upstreamEndpoint.replace(/^unix:\/\//, ''), socket });
    },
    get proxy() {
      if (!proxy) throw new Error('the VIC proxy is used before test.before ran');
      return proxy;
    },
  };
}
