// Reaching a TCP port inside a pod VM, for `kubectl port-forward`: a Duplex connected to that port
// in the pod's network namespace.
//
// Two ways, chosen by the operator:
// - 'direct' (the default): a TCP connection to the sandbox's IP. Needs the pod network to be
//   routable from where vic-kubelet runs: true of a Docker bridge on the same host and of a VIC
//   container network that is routed, not of a VCH's private bridge network seen from outside.
// - 'exec': a relay process (by default busybox/netcat `nc 127.0.0.1 <port>`) exec'd in a pod
//   container, its stdin and stdout carrying the bytes. Needs only the Docker API, so it works for
//   any VCH, but needs the relay program in the container's image.
import { connect as netConnect } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { VicError } from '../shared/errors.js';
import { call, type VchClient } from './client.js';
import type { Sessions } from './exec.js';
import { getPodVm, latestMembers, networkOwner } from './list.js';
import { podIpOf } from './status.js';

export type PortForwardStrategy = 'direct' | 'exec';

export interface PortForwardOptions {
  strategy?: PortForwardStrategy;
  /** The relay for 'exec': a command that joins its stdin/stdout to 127.0.0.1:port. */
  relayCommand?: (port: number) => string[];
  connectTimeoutMs?: number;
}

export class PortForwarder {
  readonly #client: VchClient;
  readonly #nodeName: string;
  readonly #sessions: Sessions;
  readonly #strategy: PortForwardStrategy;
  readonly #relay: (port: number) => string[];
  readonly #timeoutMs: number;

  constructor(client: VchClient, nodeName: string, sessions: Sessions, options: PortForwardOptions = {}) {
    this.#client = client;
    this.#nodeName = nodeName;
    this.#sessions = sessions;
    this.#strategy = options.strategy ?? 'direct';
    this.#relay = options.relayCommand ?? ((port) => ['nc', '127.0.0.1', String(port)]);
    this.#timeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  async connect(uid: string, port: number): Promise<Duplex> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new VicError('Invalid', `port ${port} is not a TCP port number`);
    }
    return this.#strategy === 'exec' ? this.#viaExec(uid, port) : this.#direct(uid, port);
  }

  async #direct(uid: string, port: number): Promise<Duplex> {
    const vm = await getPodVm(this.#client, this.#nodeName, uid);
    // The sandbox, or in the vm-per-pod layout the app container: whichever owns the pod IP.
    const owner = vm ? networkOwner(vm) : undefined;
    if (!vm || !owner) throw new VicError('NotFound', `no pod VM with UID ${uid} on node ${this.#nodeName}`);
    const info = await call(this.#client, `inspect sandbox of pod ${uid}`, () =>
      this.#client.docker.getContainer(owner.id).inspect(),
    );
    const ip = info.State.Running ? podIpOf(info) : undefined;
    if (!ip)
      throw new VicError(
        'Conflict',
        `pod ${vm.pod.namespace}/${vm.pod.name} has no IP: its sandbox is not running`,
      );
    const where = `port ${port} of pod ${vm.pod.namespace}/${vm.pod.name} (${ip})`;
    return new Promise<Duplex>((resolve, reject) => {
      const socket = netConnect({ host: ip, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new VicError('Timeout', `connect to ${where}: no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const code = err.code === 'ECONNREFUSED' ? 'NotFound' : 'VchUnavailable';
        const why = err.code === 'ECONNREFUSED' ? 'nothing listens there' : (err.code ?? err.message);
        reject(new VicError(code, `connect to ${where}: ${why}`, { cause: err }));
      });
    });
  }

  async #viaExec(uid: string, port: number): Promise<Duplex> {
    const vm = await getPodVm(this.#client, this.#nodeName, uid);
    const member = vm ? latestMembers(vm).find((m) => m.role === 'app' && m.state === 'running') : undefined;
    if (!vm || !member)
      throw new VicError('Conflict', `pod ${uid} has no running container to relay port ${port}`);
    const toProcess = new PassThrough();
    const fromProcess = new PassThrough();
    const abort = new AbortController();
    const duplex = Duplex.from({ readable: fromProcess, writable: toProcess });
    duplex.on('close', () => abort.abort());
    this.#sessions
      .exec({ uid, containerName: member.name }, this.#relay(port), {
        stdin: toProcess,
        stdout: fromProcess,
        tty: false,
        signal: abort.signal,
      })
      .then(
        () => fromProcess.end(),
        (err: unknown) => duplex.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    return duplex;
  }
}
