// Where a pod's network probes run from: vic-kubelet itself (direct), or inside the pod VM (in-pod)
// when vic-kubelet cannot reach the pod network, as with a remote VCH. Set by --probe-network, or, with
// `auto`, decided once per pod from one TCP connect to the pod IP: an answer (even a refusal) means
// the pod network is routed here; no route or silence means it is not.
import net from 'node:net';

export type ProbeNetwork = 'auto' | 'direct' | 'in-pod';
export type ProbeRoute = 'direct' | 'in-pod';

/** Connects once; resolves with the route that the outcome shows. */
export type ReachabilityCheck = (host: string, port: number, timeoutMs: number) => Promise<ProbeRoute>;

export const tcpReachability: ReachabilityCheck = (host, port, timeoutMs) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (route: ProbeRoute) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(route);
    };
    const timer = setTimeout(() => finish('in-pod'), timeoutMs);
    socket.once('connect', () => finish('direct'));
    // A refusal comes from the pod's own stack: the network is reachable, the port just closed.
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' ? 'direct' : 'in-pod'),
    );
  });

/** How long the one check may wait for an answer before the pod counts as unreachable. */
const checkTimeoutMs = 2000;

export class ProbeRoutes {
  readonly #mode: ProbeNetwork;
  readonly #check: ReachabilityCheck;
  readonly #byPod = new Map<string, Promise<ProbeRoute>>();

  constructor(mode: ProbeNetwork, check: ReachabilityCheck = tcpReachability) {
    this.#mode = mode;
    this.#check = check;
  }

  /** The route of a pod's network probes; with `auto`, checked at the pod's first network probe. */
  route(
    uid: string,
    podIP: string,
    port: number,
    onDecided?: (route: ProbeRoute) => void,
  ): Promise<ProbeRoute> {
    if (this.#mode !== 'auto') return Promise.resolve(this.#mode);
    let decided = this.#byPod.get(uid);
    if (!decided) {
      decided = this.#check(podIP, port, checkTimeoutMs).then((route) => {
        onDecided?.(route);
        return route;
      });
      this.#byPod.set(uid, decided);
    }
    return decided;
  }

  forget(uid: string): void {
    this.#byPod.delete(uid);
  }
}
