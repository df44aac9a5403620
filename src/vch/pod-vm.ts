// The pod VM lifecycle on the VCH: create (adopting whatever a crash left), start, wait, stop with
// grace, recreate one container for a restart, and remove. Every operation is safe to repeat.
import { VicError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type Docker from 'dockerode';
import { call, callOrUndefined, statusCodeOf, toVicError, type VchClient } from './client.js';
import { containerCreateOptions, sandboxCreateOptions, type ImageCommand } from './container-config.js';
import type { Images } from './images.js';
import { parseLabels, podFilter, SANDBOX_NAME } from './labels.js';
import { checkVmPerPod, vmPerPodCreateOptions } from './layout/vm-per-pod.js';
import { layoutLimits, type PodLayoutName } from './layout/limits.js';
import {
  getPodVm,
  groupPodVms,
  isVirtualSandbox,
  latestMembers,
  listPodVms,
  sourceFromInspect,
  virtualSandbox,
} from './list.js';
import type { ContainerSpec, PodVm, PodVmMember, PodVmSpec } from './types.js';
import { removePodVolumes } from './volumes.js';

export const DEFAULT_SANDBOX_IMAGE = 'vic-test/pause:latest';
/** The one default grace period (Kubernetes' own default), for a stop that names none. */
export const DEFAULT_GRACE_SECONDS = 30;
// The sandbox only holds namespaces; its pause process exits on SIGTERM at once.
const SANDBOX_STOP_SECONDS = 2;
const ADOPT_ROUNDS = 5;

export interface PodVmsOptions {
  nodeName: string;
  /** The sandbox image; it must be present on the VCH or pullable. */
  sandboxImage?: string;
  /** The layout of a new pod VM (the VCH's); an existing one keeps the layout its labels say. */
  layout?: () => Promise<PodLayoutName>;
  logger?: Logger;
}

/** Which attempt of a container to create, and the attempt its crash back-off series began at. */
export interface MemberAttempt {
  attempt: number;
  backoffFrom?: number;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dockerNamePart = /^[a-zA-Z0-9][a-zA-Z0-9.-]*$/;

export class PodVms {
  readonly #client: VchClient;
  readonly #images: Images;
  readonly #nodeName: string;
  readonly #sandboxImage: string;
  readonly #log: Logger;
  readonly #layout: () => Promise<PodLayoutName>;

  constructor(client: VchClient, images: Images, options: PodVmsOptions) {
    this.#layout = options.layout ?? (() => Promise.resolve('shared'));
    this.#client = client;
    this.#images = images;
    this.#nodeName = options.nodeName;
    this.#sandboxImage = options.sandboxImage ?? DEFAULT_SANDBOX_IMAGE;
    this.#log = (options.logger ?? silentLogger).child({ component: 'vch.pod-vm' });
  }

  list(of?: { namespace: string; name: string }): Promise<PodVm[]> {
    return listPodVms(this.#client, this.#nodeName, of);
  }

  get(uid: string): Promise<PodVm | undefined> {
    return getPodVm(this.#client, this.#nodeName, uid);
  }

  /**
   * Creates the sandbox and every container (init and app) that does not exist yet. Whatever a
   * previous, interrupted call left is adopted: nothing is ever duplicated.
   */
  async create(spec: PodVmSpec): Promise<PodVm> {
    this.#validate(spec);
    await this.ensureSandbox(spec);
    const vm = await this.#existingOrNew(spec);
    const all = [...(spec.initContainers ?? []), ...spec.containers];
    const missing = all.filter((c) => !vm.members.some((m) => m.name === c.name));
    // Pull together, create in order: a pod's containers often share an image, pulled once.
    const images = new Map(missing.map((c) => [c.name, this.#ensureImage(spec, c)]));
    const settled = await Promise.allSettled(images.values());
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const c of missing) await this.#createMember(spec, vm, c.name, { attempt: 0 }, images.get(c.name));
    return this.#require(spec.pod.uid);
  }

  /** The layout of this pod VM: what its containers' labels say, else the VCH's for a new one. */
  async #layoutOf(vm: PodVm | undefined): Promise<PodLayoutName> {
    if (vm?.layout === 'vm-per-pod') return 'vm-per-pod';
    if (vm?.sandbox) return 'shared';
    return this.#layout();
  }

  /** The pod VM as it is; in the vm-per-pod layout one with nothing yet is an empty pod VM. */
  async #existingOrNew(spec: PodVmSpec): Promise<PodVm> {
    const vm = await this.get(spec.pod.uid);
    if (vm) return vm;
    if ((await this.#layoutOf(undefined)) === 'vm-per-pod') {
      const empty: PodVm = { pod: spec.pod, nodeName: spec.nodeName, layout: 'vm-per-pod', members: [] };
      return { ...empty, sandbox: virtualSandbox(empty) };
    }
    return this.#require(spec.pod.uid);
  }

  /** The sandbox of the pod VM, created when there is none. */
  async ensureSandbox(spec: PodVmSpec): Promise<PodVmMember> {
    this.#validate(spec);
    const existing = await this.get(spec.pod.uid);
    if ((await this.#layoutOf(existing)) === 'vm-per-pod') {
      // No sandbox container: refuse here, before anything exists, what this layout cannot lay out.
      checkVmPerPod(spec);
      return (await this.#existingOrNew(spec)).sandbox!;
    }
    if (existing?.sandbox) return existing.sandbox;
    await this.#images.ensure(this.#sandboxImage, {
      policy: 'IfNotPresent',
      credentials: spec.registryCredentials ?? [],
    });
    const options = sandboxCreateOptions(spec, { image: this.#sandboxImage, attempt: 0 });
    return this.#createOrAdopt(spec, SANDBOX_NAME, options);
  }

  /**
   * Creates one container of the pod VM at `attempt` (by default the newest one that exists, else 0)
   * and adopts it when it already exists. A new attempt is how a container restarts: the attempt
   * before it is kept for `logs --previous`, older ones are removed.
   */
  async createContainer(
    spec: PodVmSpec,
    name: string,
    attempt?: number | MemberAttempt,
  ): Promise<PodVmMember> {
    this.#validate(spec);
    const wanted = typeof attempt === 'number' ? { attempt } : (attempt ?? {});
    return this.#createMember(spec, await this.#existingOrNew(spec), name, wanted);
  }

  async #createMember(
    spec: PodVmSpec,
    vm: PodVm,
    name: string,
    at: Partial<MemberAttempt>,
    image?: Promise<ImageCommand>,
  ): Promise<PodVmMember> {
    const found = findContainer(spec, name);
    const sandbox = vm.sandbox;
    const vmPerPod = vm.layout === 'vm-per-pod';
    if (vmPerPod) checkVmPerPod(spec);
    if (vmPerPod && found.role === 'ephemeral') throw ephemeralNotPossible(spec);
    if (!sandbox) {
      throw new VicError(
        'NotFound',
        `pod VM ${podKey(spec)} has no sandbox: create the pod VM before its containers`,
      );
    }
    const attempts = vm.members.filter((m) => m.name === name);
    const newest = attempts.reduce<PodVmMember | undefined>(
      (a, m) => (!a || m.attempt > a.attempt ? m : a),
      undefined,
    );
    const wanted = at.attempt ?? newest?.attempt ?? 0;
    const same = attempts.find((m) => m.attempt === wanted);
    if (same) return same;
    if (newest && newest.attempt < wanted && newest.state === 'running') {
      throw new VicError(
        'Conflict',
        `container "${name}" of pod ${podKey(spec)} is still running attempt ${newest.attempt}: stop it before attempt ${wanted}`,
      );
    }
    await this.#removeAll(attempts.filter((m) => m.attempt < wanted - 1));
    const member = {
      role: found.role,
      index: found.index,
      attempt: wanted,
      ...(at.backoffFrom !== undefined ? { backoffFrom: at.backoffFrom } : {}),
      image: await (image ?? this.#ensureImage(spec, found.container)),
    };
    const pidTargetId = found.container.targetContainer
      ? targetOf(vm, spec, found.container.name, found.container.targetContainer)
      : undefined;
    const options =
      vmPerPod && found.role !== 'ephemeral'
        ? vmPerPodCreateOptions(spec, found.container, { ...member, role: found.role })
        : containerCreateOptions(spec, found.container, {
            ...member,
            sandboxId: sandbox.id,
            ...(pidTargetId ? { pidTargetId } : {}),
          });
    return this.#createOrAdopt(spec, name, options);
  }

  /** Starts the sandbox, then every app container never started yet; init containers are the caller's. */
  async start(uid: string): Promise<void> {
    const vm = await this.#require(uid);
    if (!vm.sandbox) throw new VicError('NotFound', `pod VM ${uid} has no sandbox to start`);
    await this.startContainer(vm.sandbox.id);
    for (const m of latestMembers(vm)) {
      if (m.role === 'app' && m.state === 'created') await this.startContainer(m.id);
    }
  }

  /** Starts one container; one already running is fine. */
  async startContainer(id: string): Promise<void> {
    // The sandbox of a vm-per-pod pod VM is a record, not a container: nothing to start.
    if (isVirtualSandbox(id)) return;
    try {
      await this.#client.docker.getContainer(id).start();
    } catch (err) {
      if (statusCodeOf(err) === 304) return;
      throw toVicError(err, `start container ${id}`, this.#client.endpoint);
    }
  }

  /** Resolves when the container is not running any more, with its exit code. */
  async waitContainer(id: string, signal?: AbortSignal): Promise<{ exitCode: number }> {
    const result = (await call(this.#client, `wait for container ${id}`, () =>
      this.#client.docker
        .getContainer(id)
        .wait({ condition: 'not-running', ...(signal ? { abortSignal: signal } : {}) }),
    )) as { StatusCode?: number };
    return { exitCode: result.StatusCode ?? -1 };
  }

  /**
   * Stops every container of the pod VM: SIGTERM (or the image's stop signal), SIGKILL after the
   * grace period (Docker's stop `t`); the sandbox last. By default the grace period the pod was
   * created with, read back from the sandbox's labels.
   */
  async stop(uid: string, gracePeriodSeconds?: number): Promise<void> {
    const vm = await this.get(uid);
    if (!vm) return;
    const grace = Math.max(
      0,
      gracePeriodSeconds ?? vm.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
    );
    const running = vm.members.filter((m) => isActive(m.state));
    await Promise.all(running.map((m) => this.stopContainer(m.id, grace)));
    if (vm.sandbox && isActive(vm.sandbox.state)) {
      await this.stopContainer(vm.sandbox.id, Math.min(grace, SANDBOX_STOP_SECONDS));
    }
  }

  async stopContainer(id: string, gracePeriodSeconds: number): Promise<void> {
    if (isVirtualSandbox(id)) return;
    try {
      await this.#client.docker.getContainer(id).stop({ t: Math.round(gracePeriodSeconds) });
    } catch (err) {
      const status = statusCodeOf(err);
      if (status === 304 || status === 404) return;
      throw toVicError(err, `stop container ${id}`, this.#client.endpoint);
    }
  }

  /** Removes every Docker object of the pod VM, whatever state it is in. Removing nothing is fine. */
  async remove(uid: string): Promise<void> {
    // Filter by label rather than trust a complete label set: leftovers of any kind go too.
    const containers = await call(this.#client, `list containers of pod ${uid}`, () =>
      this.#client.docker.listContainers({ all: true, filters: { label: podFilter(this.#nodeName, uid) } }),
    );
    const sandboxIds = new Set(
      containers.filter((c) => parseLabels(c.Labels)?.role === 'sandbox').map((c) => c.Id),
    );
    // Members first: the sandbox holds the namespaces they live in.
    await Promise.all(containers.filter((c) => !sandboxIds.has(c.Id)).map((c) => this.removeContainer(c.Id)));
    await Promise.all([...sandboxIds].map((id) => this.removeContainer(id)));
    // The pod's volumes go with it (issue 10: volumes are named Docker volumes labelled with the pod).
    await removePodVolumes(this.#client, this.#nodeName, uid);
  }

  async removeContainer(id: string): Promise<void> {
    if (isVirtualSandbox(id)) return;
    try {
      await this.#client.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const status = statusCodeOf(err);
      // 409 here means Docker is already removing it.
      if (status === 404 || status === 409) return;
      throw toVicError(err, `remove container ${id}`, this.#client.endpoint);
    }
  }

  async #removeAll(members: readonly PodVmMember[]): Promise<void> {
    await Promise.all(members.map((m) => this.removeContainer(m.id)));
  }

  async #ensureImage(spec: PodVmSpec, container: ContainerSpec): Promise<ImageCommand> {
    try {
      return await this.#images.ensure(container.image, {
        ...(container.imagePullPolicy ? { policy: container.imagePullPolicy } : {}),
        credentials: spec.registryCredentials ?? [],
      });
    } catch (err) {
      const e = toVicError(err, `image of container "${container.name}"`);
      throw new VicError(e.code, `container "${container.name}": ${e.message}`, {
        cause: err,
        details: { ...e.details, container: container.name },
      });
    }
  }

  async #createOrAdopt(
    spec: PodVmSpec,
    name: string,
    options: Parameters<VchClient['docker']['createContainer']>[0],
  ): Promise<PodVmMember> {
    const docker = this.#client.docker;
    let info: Docker.ContainerInspectInfo | undefined;
    // A concurrent create holds the name a moment before the container can be inspected; and it may
    // fail and release the name. So: create, else inspect, else try again, a few times.
    for (let round = 1; !info; round++) {
      try {
        // Name in the query, the rest in the body only: dockerode would also copy every field into
        // the URL, env values (secrets) included, where proxies and access logs keep them.
        const { name: _name, ...body } = options;
        const created = await docker.createContainer({
          _query: { name: options.name },
          _body: body,
        } as typeof options);
        this.#log.debug({ pod: podKey(spec), container: name, id: created.id }, 'created container');
      } catch (err) {
        if (statusCodeOf(err) !== 409)
          throw toVicError(err, `create container ${options.name}`, this.#client.endpoint);
        // Created by an earlier call that did not live to see the answer: adopt it if it is ours.
        this.#log.info({ pod: podKey(spec), container: name }, 'container exists already; adopting it');
      }
      info = await callOrUndefined(this.#client, `inspect container ${options.name}`, () =>
        docker.getContainer(options.name ?? '').inspect(),
      );
      if (!info && round >= ADOPT_ROUNDS) {
        throw new VicError(
          'Conflict',
          `container ${options.name} could neither be created nor found; try again`,
        );
      }
      if (!info) await new Promise((resolve) => setTimeout(resolve, 50 * round));
    }
    const labels = parseLabels(info.Config.Labels);
    if (!labels || labels.pod.uid !== spec.pod.uid || labels.containerName !== name) {
      throw new VicError(
        'Conflict',
        `a container named ${options.name} that vic-kubelet did not create for pod ${podKey(spec)} exists on the VCH: remove it`,
        { details: { name: options.name } },
      );
    }
    const member = groupPodVms([sourceFromInspect(info)])[0];
    // A vm-per-pod member comes with a sandbox record of its own making: take the container itself.
    const found = name === SANDBOX_NAME ? member?.sandbox : member?.members[0];
    if (!found) throw new VicError('Internal', `container ${options.name} has unreadable labels`);
    return found;
  }

  async #require(uid: string): Promise<PodVm> {
    const vm = await this.get(uid);
    if (!vm) throw new VicError('NotFound', `no pod VM with UID ${uid} on node ${this.#nodeName}`);
    return vm;
  }

  #validate(spec: PodVmSpec): void {
    const bad = (why: string): VicError => new VicError('Invalid', `pod VM ${podKey(spec)}: ${why}`);
    if (spec.nodeName !== this.#nodeName) {
      throw bad(`is for node "${spec.nodeName}" but this VCH serves node "${this.#nodeName}"`);
    }
    for (const part of [spec.pod.namespace, spec.pod.name, spec.pod.uid]) {
      if (!dockerNamePart.test(part)) throw bad(`"${part}" cannot be part of a Docker container name`);
    }
    const names = new Set<string>();
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if (!dnsLabel.test(c.name)) throw bad(`container name "${c.name}" is not a DNS label`);
      if (names.has(c.name)) throw bad(`container name "${c.name}" is used twice`);
      names.add(c.name);
    }
    if (spec.containers.length === 0) throw bad('has no containers');
  }
}

function findContainer(
  spec: PodVmSpec,
  name: string,
): { container: ContainerSpec; role: 'init' | 'app' | 'ephemeral'; index: number } {
  const initIndex = (spec.initContainers ?? []).findIndex((c) => c.name === name);
  if (initIndex >= 0) return { container: spec.initContainers![initIndex]!, role: 'init', index: initIndex };
  const appIndex = spec.containers.findIndex((c) => c.name === name);
  if (appIndex >= 0) return { container: spec.containers[appIndex]!, role: 'app', index: appIndex };
  const debugIndex = (spec.ephemeralContainers ?? []).findIndex((c) => c.name === name);
  if (debugIndex >= 0) {
    return { container: spec.ephemeralContainers![debugIndex]!, role: 'ephemeral', index: debugIndex };
  }
  throw new VicError('NotFound', `pod ${podKey(spec)} has no container "${name}"`);
}

/** The running container whose PID namespace an ephemeral container joins (`kubectl debug --target`). */
function targetOf(vm: PodVm, spec: PodVmSpec, name: string, target: string): string {
  const member = latestMembers(vm).find((m) => m.name === target && m.role !== 'ephemeral');
  if (!member || member.state !== 'running') {
    throw new VicError(
      'Invalid',
      `ephemeral container "${name}" of pod ${podKey(spec)} targets container "${target}", which is not running`,
    );
  }
  return member.id;
}

/** The vm-per-pod layout has no namespaces to share: a debug container would see nothing of the pod. */
export function ephemeralNotPossible(spec: PodVmSpec): VicError {
  return new VicError(
    'Invalid',
    `pod VM ${podKey(spec)}: an ephemeral container cannot join the pod's namespaces: ${layoutLimits('vm-per-pod').because}`,
  );
}

function isActive(state: string): boolean {
  return state === 'running' || state === 'restarting' || state === 'paused';
}

export function podKey(spec: PodVmSpec): string {
  return `${spec.pod.namespace}/${spec.pod.name}`;
}
