// A byte-for-byte TCP (or unix socket) proxy for fault tests: it sits between a vic-kubelet and one of
// the services it depends on (the API server, the Docker engine) and passes every byte through
// untouched (TLS included: it never looks inside a handshake), until a test cuts it. A cut either
// refuses connections (the service is gone: connections are reset, new ones closed at once) or
// black-holes them (the network is partitioned: bytes are swallowed, nothing answers). It can also cut
// only the connections that carried a given HTTP request, such as the engine's /events stream.
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export type Endpoint = { host: string; port: number } | { path: string };

export interface TcpProxyOptions {
  upstream: Endpoint;
  /** Where to listen; default 127.0.0.1 on a free port. */
  listen?: Endpoint;
}

/** How the proxy treats traffic while cut. */
export type CutMode = 'refuse' | 'blackhole';

/** One client connection and its upstream twin. */
export interface ProxiedConnection {
  readonly id: number;
  /** Request lines (`GET /v1.41/events?... HTTP/1.1`) seen from the client, when it spoke plain HTTP. */
  readonly requests: string[];
  destroy(): void;
}

export interface ProxyCounts {
  /** Connections accepted. */
  accepted: number;
  /** Connections the proxy destroyed or refused on purpose. */
  cutConnections: number;
  /** Bytes passed each way. */
  bytesUp: number;
  bytesDown: number;
}

// Only the start of a request head, as plain HTTP/1.1 sends it: enough to tell an /events stream from
// the rest. A request line split across two reads is missed, which a test sees as a cut not made.
/** A reset where the socket is TCP; a unix socket has no reset, only a close. */
function reset(socket: Socket): void {
  if (socket.remoteAddress !== undefined) socket.resetAndDestroy();
  else socket.destroy();
}

const requestLine = /(?:^|\r\n)((?:GET|POST|PUT|DELETE|HEAD|PATCH) \S+ HTTP\/1\.[01])\r\n/g;

export class TcpProxy {
  readonly #upstream: Endpoint;
  readonly #server: Server;
  readonly #open = new Map<number, ProxiedConnection & { sockets: Socket[] }>();
  readonly #held = new Set<Socket>();
  #mode: CutMode | undefined;
  #nextId = 1;
  #listen: Endpoint | undefined;
  readonly counts: ProxyCounts = { accepted: 0, cutConnections: 0, bytesUp: 0, bytesDown: 0 };

  private constructor(upstream: Endpoint) {
    this.#upstream = upstream;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(options.upstream);
    const listen = options.listen ?? { host: '127.0.0.1', port: 0 };
    if ('path' in listen) {
      rmSync(listen.path, { force: true });
      proxy.#server.listen(listen.path);
    } else {
      proxy.#server.listen(listen.port, listen.host);
    }
    await once(proxy.#server, 'listening');
    const address = proxy.#server.address();
    proxy.#listen =
      'path' in listen || typeof address === 'string' || !address
        ? listen
        : { host: listen.host, port: address.port };
    return proxy;
  }

  /** Where clients connect. */
  get address(): Endpoint {
    if (!this.#listen) throw new Error('the proxy is not listening');
    return this.#listen;
  }

  get port(): number {
    const address = this.address;
    if ('path' in address) throw new Error('the proxy listens on a unix socket');
    return address.port;
  }

  get isCut(): boolean {
    return this.#mode !== undefined;
  }

  connections(): ProxiedConnection[] {
    return [...this.#open.values()];
  }

  /** Cuts every connection open now and treats new ones as `mode` says until restore(). */
  cut(mode: CutMode = 'refuse'): void {
    this.#mode = mode;
    for (const connection of [...this.#open.values()]) {
      if (mode === 'refuse') {
        connection.destroy();
      } else {
        // Partitioned: the client's socket stays open and hears nothing more; upstream is dropped.
        const [client, upstream] = connection.sockets;
        upstream?.destroy();
        if (client) this.#hold(client);
        this.#open.delete(connection.id);
        this.counts.cutConnections += 1;
      }
    }
  }

  /** Ends the cut: new connections pass again. Black-holed ones are reset, as a peer's stack would
   * once the partition heals and it sees segments for a connection it no longer knows. */
  restore(): void {
    this.#mode = undefined;
    for (const socket of this.#held) socket.destroy();
    this.#held.clear();
  }

  /** Destroys the open connections that match; returns how many. */
  cutWhere(predicate: (connection: ProxiedConnection) => boolean): number {
    let count = 0;
    for (const connection of [...this.#open.values()]) {
      if (!predicate(connection)) continue;
      connection.destroy();
      count += 1;
    }
    return count;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of [...this.#open.values()]) connection.destroy();
    this.restore();
    await closed;
    if (this.#listen && 'path' in this.#listen) rmSync(this.#listen.path, { force: true });
  }

  #hold(client: Socket): void {
    this.#held.add(client);
    client.removeAllListeners('data');
    client.resume();
    client.on('close', () => this.#held.delete(client));
  }

  #accept(client: Socket): void {
    this.counts.accepted += 1;
    client.on('error', () => undefined);
    if (this.#mode === 'refuse') {
      this.counts.cutConnections += 1;
      reset(client);
      return;
    }
    if (this.#mode === 'blackhole') {
      this.counts.cutConnections += 1;
      this.#hold(client);
      return;
    }
    const upstream = connect(this.#upstream);
    upstream.on('error', () => undefined);
    const id = this.#nextId++;
    const requests: string[] = [];
    const connection = {
      id,
      requests,
      sockets: [client, upstream],
      destroy: () => {
        if (!this.#open.has(id)) return;
        this.#open.delete(id);
        this.counts.cutConnections += 1;
        reset(client);
        upstream.destroy();
      },
    };
    this.#open.set(id, connection);
    client.on('data', (chunk: Buffer) => {
      this.counts.bytesUp += chunk.length;
      for (const match of chunk.toString('latin1').matchAll(requestLine)) requests.push(match[1]!);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      this.counts.bytesDown += chunk.length;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const end = () => {
      this.#open.delete(id);
      client.destroy();
      upstream.destroy();
    };
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', end);
    upstream.on('close', end);
  }
}
