// An in-memory VCH for PodSync unit tests: pod VMs and their containers as plain records whose
// states the test moves (crash, exit) against a fake clock. Not a conformance double of Docker.
import type { Clock } from '../../../shared/clock.js';
import type { ImageInfo, MemberAttempt, PodVmLifecycle, VchImages } from '../../../vch/index.js';
import type {
  ContainerRole,
  ContainerState,
  ContainerStatus,
  PodVm,
  PodVmMember,
  PodVmSpec,
  PodVmStatus,
} from '../../../vch/types.js';

export interface FakeContainer {
  id: string;
  uid: string;
  pod: PodVmSpec['pod'];
  name: string;
  role: ContainerRole;
  attempt: number;
  backoffFrom?: number;
  state: ContainerState;
  /** Grace periods this container was stopped with, in order. */
  stops: number[];
}

const fakeImage: ImageInfo = {
  id: 'sha256:fake',
  repoTags: ['i'],
  repoDigests: [],
  entrypoint: [],
  cmd: ['sh'],
};

export class FakeVch {
  readonly containers: FakeContainer[] = [];
  readonly calls: string[] = [];
  /** A new sandbox is left created, not running, as the engine leaves it (default: running). */
  sandboxStartsCreated = false;
  /** Status reads are logged in `calls` too, as 'status'. */
  logStatusReads = false;
  /** Files in containers, by `<id>:<path>`: what readFile finds. */
  readonly files = new Map<string, string>();
  readonly #clock: Clock;
  #next = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The newest attempt of one container of a pod. */
  latest(uid: string, name: string): FakeContainer | undefined {
    return this.containers
      .filter((c) => c.uid === uid && c.name === name)
      .reduce<FakeContainer | undefined>((a, c) => (!a || c.attempt > a.attempt ? c : a), undefined);
  }

  /** The container's process exits now, after running since it started. */
  exit(c: FakeContainer, exitCode: number): void {
    const startedAt = c.state.kind === 'running' ? c.state.startedAt : new Date(this.#clock.now());
    c.state = {
      kind: 'terminated',
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt,
      finishedAt: new Date(this.#clock.now()),
    };
  }

  readonly images: VchImages = {
    ensure: () => Promise.resolve(fakeImage),
    inspect: () => Promise.resolve(fakeImage),
  };

  readonly pods: PodVmLifecycle = {
    list: () => Promise.resolve(this.#vms()),
    status: (uid) => {
      if (this.logStatusReads) this.calls.push('status');
      return Promise.resolve(this.#status(uid));
    },
    ensureSandbox: (spec) => {
      this.calls.push('ensureSandbox');
      const existing = this.containers.find((c) => c.uid === spec.pod.uid && c.role === 'sandbox');
      return Promise.resolve(
        this.#member(
          existing ?? this.#add(spec, 'POD', 'sandbox', { attempt: 0 }, !this.sandboxStartsCreated),
        ),
      );
    },
    createContainer: (spec, name, attempt) => {
      const at: MemberAttempt = typeof attempt === 'number' ? { attempt } : (attempt ?? { attempt: 0 });
      this.calls.push(`create ${name}#${at.attempt}`);
      const role = spec.initContainers?.some((c) => c.name === name)
        ? 'init'
        : spec.ephemeralContainers?.some((c) => c.name === name)
          ? 'ephemeral'
          : 'app';
      const same = this.containers.find(
        (c) => c.uid === spec.pod.uid && c.name === name && c.attempt === at.attempt,
      );
      return Promise.resolve(this.#member(same ?? this.#add(spec, name, role, at, false)));
    },
    startContainer: (id) => {
      const c = this.containers.find((x) => x.id === id);
      if (c && c.state.kind !== 'running') {
        this.calls.push(`start ${c.name}#${c.attempt}`);
        c.state = { kind: 'running', startedAt: new Date(this.#clock.now()) };
      }
      return Promise.resolve();
    },
    updateResources: (id, resources) => {
      this.calls.push(`update ${id} ${JSON.stringify(resources)}`);
      return Promise.resolve();
    },
    stopContainer: (id, grace) => {
      const c = this.containers.find((x) => x.id === id);
      if (c) this.#stop(c, grace);
      return Promise.resolve();
    },
    stop: (uid, grace) => {
      for (const c of this.containers.filter((x) => x.uid === uid)) this.#stop(c, grace ?? 30);
      return Promise.resolve();
    },
    remove: (uid) => {
      this.calls.push(`remove ${uid}`);
      for (let i = this.containers.length - 1; i >= 0; i--) {
        if (this.containers[i]?.uid === uid) this.containers.splice(i, 1);
      }
      return Promise.resolve();
    },
    readFile: (id, path) => Promise.resolve(this.files.get(`${id}:${path}`)),
    sandboxFile: () => Promise.resolve(undefined),
  };

  #stop(c: FakeContainer, grace: number): void {
    if (c.state.kind !== 'running') return;
    this.calls.push(`stop ${c.name}#${c.attempt} grace=${grace}`);
    c.stops.push(grace);
    this.exit(c, 137);
  }

  #add(
    spec: PodVmSpec,
    name: string,
    role: ContainerRole,
    at: MemberAttempt,
    running: boolean,
  ): FakeContainer {
    const c: FakeContainer = {
      id: `c${this.#next++}`,
      uid: spec.pod.uid,
      pod: spec.pod,
      name,
      role,
      attempt: at.attempt,
      ...(at.backoffFrom !== undefined ? { backoffFrom: at.backoffFrom } : {}),
      state: running
        ? { kind: 'running', startedAt: new Date(this.#clock.now()) }
        : { kind: 'waiting', reason: 'ContainerCreating' },
      stops: [],
    };
    this.containers.push(c);
    return c;
  }

  #member(c: FakeContainer): PodVmMember {
    return {
      id: c.id,
      dockerName: `k8s_${c.name}_${c.attempt}`,
      name: c.name,
      role: c.role,
      attempt: c.attempt,
      index: 0,
      image: 'i',
      state: c.state.kind === 'running' ? 'running' : c.state.kind === 'waiting' ? 'created' : 'exited',
      createdAt: new Date(0),
    };
  }

  #vms(): PodVm[] {
    const byUid = new Map<string, PodVm>();
    for (const c of this.containers) {
      const vm = byUid.get(c.uid) ?? { pod: c.pod, nodeName: 'node', members: [] };
      byUid.set(c.uid, vm);
      if (c.role === 'sandbox') vm.sandbox = this.#member(c);
      else vm.members.push(this.#member(c));
    }
    return [...byUid.values()];
  }

  #status(uid: string): PodVmStatus | undefined {
    const mine = this.containers.filter((c) => c.uid === uid);
    const first = mine[0];
    if (!first) return undefined;
    const statusOf = (c: FakeContainer): ContainerStatus => ({
      name: c.name,
      role: c.role,
      attempt: c.attempt,
      id: c.id,
      image: 'i',
      imageId: 'sha256:fake',
      state: c.state,
      restartCount: c.attempt,
      ...(c.backoffFrom !== undefined ? { backoffFrom: c.backoffFrom } : {}),
    });
    const latest = [...new Set(mine.map((c) => c.name))].map((n) => this.latest(uid, n)!);
    const sandbox = latest.find((c) => c.role === 'sandbox');
    return {
      pod: first.pod,
      nodeName: 'node',
      ...(sandbox ? { sandbox: statusOf(sandbox) } : {}),
      ...(sandbox?.state.kind === 'running' ? { podIP: '10.0.0.9' } : {}),
      initContainers: latest.filter((c) => c.role === 'init').map(statusOf),
      containers: latest.filter((c) => c.role === 'app').map(statusOf),
      ...(latest.some((c) => c.role === 'ephemeral')
        ? { ephemeralContainers: latest.filter((c) => c.role === 'ephemeral').map(statusOf) }
        : {}),
    };
  }
}
