// The status of a pod VM: each container's state, restart count, image and plain Docker IDs, and the
// pod IP, read from Docker inspect. How Kubernetes spells those IDs (docker://, docker-pullable://)
// is the provider's business.
import type Docker from 'dockerode';
import { constants as osConstants } from 'node:os';
import { callOrUndefined, type VchClient } from './client.js';
import { mountsUserFiles, type ProcessIdentities } from './process-identity.js';
import { parseLabels } from './labels.js';
import { appliedOf } from './update.js';
import { getPodVm, isVirtualSandbox, latestMembers, networkOwner, virtualSandbox } from './list.js';
import type {
  ContainerState,
  ContainerStatus,
  PodIdentity,
  PodVm,
  PodVmMember,
  PodVmStatus,
  ProcessIdentity,
} from './types.js';

/** Docker writes the zero time for "never". */
export function dockerTime(value: string | undefined): Date | undefined {
  if (!value || value.startsWith('0001-01-01')) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export type InspectState = Pick<
  Docker.ContainerInspectInfo['State'],
  'Status' | 'ExitCode' | 'Error' | 'OOMKilled' | 'StartedAt' | 'FinishedAt'
>;

export function containerState(state: InspectState): ContainerState {
  const startedAt = dockerTime(state.StartedAt);
  const finishedAt = dockerTime(state.FinishedAt);
  const message = state.Error ? state.Error : undefined;
  switch (state.Status) {
    case 'running':
    case 'paused':
    case 'restarting':
      return { kind: 'running', startedAt: startedAt ?? new Date(0) };
    case 'created':
      // A start that failed (no such executable, a bad mount) leaves the container "created" with an error.
      if (message) {
        return {
          kind: 'terminated',
          exitCode: state.ExitCode || 128,
          reason: 'StartError',
          message,
          ...(finishedAt ? { finishedAt } : {}),
        };
      }
      return { kind: 'waiting', reason: 'ContainerCreating' };
    default: {
      // exited, dead, removing
      const reason = state.OOMKilled ? 'OOMKilled' : state.ExitCode === 0 ? 'Completed' : 'Error';
      return {
        kind: 'terminated',
        exitCode: state.ExitCode,
        reason,
        ...(message ? { message } : {}),
        ...(startedAt ? { startedAt } : {}),
        ...(finishedAt ? { finishedAt } : {}),
      };
    }
  }
}

function repositoryOf(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

/**
 * The registry digest (`repo@sha256:...`) that names the image the container runs, preferring the
 * repository the container names; undefined for an image that never came from a registry.
 */
export function repoDigestOf(configImage: string, repoDigests: readonly string[]): string | undefined {
  if (repoDigests.length === 0) return undefined;
  const repo = repositoryOf(configImage);
  const names = [repo, `docker.io/${repo}`, `docker.io/library/${repo}`];
  const match = repoDigests.find((d) => {
    const r = repositoryOf(d);
    return names.includes(r) || names.includes(`docker.io/${r}`) || names.includes(`docker.io/library/${r}`);
  });
  return match ?? repoDigests[0];
}

export function podIpOf(info: Pick<Docker.ContainerInspectInfo, 'NetworkSettings'>): string | undefined {
  const settings = info.NetworkSettings;
  if (settings.IPAddress) return settings.IPAddress;
  for (const network of Object.values(settings.Networks ?? {})) {
    if (network.IPAddress) return network.IPAddress;
  }
  return undefined;
}

/**
 * The signal a stop sends, as Kubernetes spells it (`SIGTERM`, `SIGRTMIN+3`): Docker keeps what it
 * was given at create, the image's STOPSIGNAL in its place, or nothing for its default, SIGTERM.
 */
export function stopSignalName(configured: string | undefined): string {
  const value = (configured ?? '').trim().toUpperCase();
  if (!value) return 'SIGTERM';
  if (/^\d+$/.test(value)) {
    const found = Object.entries(osConstants.signals).find(([, n]) => n === Number(value));
    return found ? found[0] : value;
  }
  return value.startsWith('SIG') ? value : `SIG${value}`;
}

export function containerStatusOf(
  info: Docker.ContainerInspectInfo,
  repoDigests: readonly string[],
  previous?: Docker.ContainerInspectInfo,
): ContainerStatus | undefined {
  const labels = parseLabels(info.Config.Labels);
  if (!labels) return undefined;
  const status: ContainerStatus = {
    name: labels.containerName,
    role: labels.role,
    attempt: labels.attempt,
    id: info.Id,
    image: info.Config.Image,
    imageId: info.Image,
    state: containerState(info.State),
    // vic-kubelet restarts a container as a new attempt; Docker's own count stays 0 unless someone
    // set a Docker restart policy behind our back.
    restartCount: labels.attempt + (info.RestartCount ?? 0),
  };
  const repoDigest = repoDigestOf(info.Config.Image, repoDigests);
  if (repoDigest) status.repoDigest = repoDigest;
  if (labels.specHash !== undefined) status.specHash = labels.specHash;
  if (labels.backoffFrom !== undefined) status.backoffFrom = labels.backoffFrom;
  if (previous) {
    status.lastState = containerState(previous.State);
    status.lastStateId = previous.Id;
  }
  if (labels.role !== 'sandbox') {
    status.applied = labels.askedResources ?? appliedOf(info.HostConfig);
    // dockerode's inspect type leaves StopSignal out; the engine sends it.
    status.stopSignal = stopSignalName((info.Config as { StopSignal?: string }).StopSignal);
  }
  return status;
}

export class StatusReader {
  readonly #client: VchClient;
  readonly #nodeName: string;
  /** Absent on a VCH without the archive endpoint: the process's identity is then not reported. */
  readonly #identities: ProcessIdentities | undefined;

  constructor(client: VchClient, nodeName: string, options: { identities?: ProcessIdentities } = {}) {
    this.#client = client;
    this.#nodeName = nodeName;
    this.#identities = options.identities;
  }

  /** The status of one pod VM; undefined when the VCH has no container of it. */
  async podVmStatus(uid: string, knownVm?: PodVm): Promise<PodVmStatus | undefined> {
    const vm = knownVm ?? (await getPodVm(this.#client, this.#nodeName, uid));
    if (!vm) return undefined;
    const digests = new Map<string, Promise<string[]>>();
    const repoDigests = (imageId: string): Promise<string[]> => {
      let found = digests.get(imageId);
      if (!found) {
        found = callOrUndefined(this.#client, `inspect image ${imageId}`, () =>
          this.#client.docker.getImage(imageId).inspect(),
        ).then((i) => i?.RepoDigests ?? []);
        digests.set(imageId, found);
      }
      return found;
    };
    const statusOf = async (m: PodVmMember, previous?: PodVmMember): Promise<ContainerStatus | undefined> => {
      const inspected = this.#inspect(m.id);
      // The image's files are read beside the inspect, not after it (once per container).
      const user = m.role !== 'sandbox' ? this.#userOf(m.id, inspected) : undefined;
      const [info, prev, identity] = await Promise.all([
        inspected,
        previous ? this.#inspect(previous.id) : undefined,
        user,
      ]);
      if (!info) return undefined;
      const status = containerStatusOf(info, await repoDigests(info.Image), prev);
      if (status && identity) status.user = identity;
      return status;
    };
    const latest = latestMembers(vm);
    const previousOf = (m: PodVmMember): PodVmMember | undefined =>
      vm.members
        .filter((p) => p.name === m.name && p.attempt < m.attempt)
        .reduce<PodVmMember | undefined>((a, p) => (!a || p.attempt > a.attempt ? p : a), undefined);
    const owner = networkOwner(vm);
    const real = vm.sandbox && !isVirtualSandbox(vm.sandbox.id) ? vm.sandbox : undefined;
    const [sandboxInfo, ownerInfo, ...statuses] = await Promise.all([
      real ? this.#inspect(real.id) : undefined,
      owner && owner !== real ? this.#inspect(owner.id) : undefined,
      ...latest.map((m) => statusOf(m, previousOf(m))),
    ]);
    const result: PodVmStatus = { pod: vm.pod, nodeName: vm.nodeName, initContainers: [], containers: [] };
    if (sandboxInfo) {
      const sandbox = containerStatusOf(sandboxInfo, await repoDigests(sandboxInfo.Image));
      if (sandbox) result.sandbox = sandbox;
      const ip = sandbox?.state.kind === 'running' ? podIpOf(sandboxInfo) : undefined;
      if (ip) result.podIP = ip;
    } else if (vm.sandbox) {
      // vm-per-pod: no sandbox container; the app container owns the pod IP while it runs.
      result.sandbox = virtualSandboxStatus(vm.sandbox);
      const ip = ownerInfo?.State.Running ? podIpOf(ownerInfo) : undefined;
      if (ip) result.podIP = ip;
    }
    for (const s of statuses) {
      if (!s) continue;
      if (s.role === 'ephemeral') (result.ephemeralContainers ??= []).push(s);
      else (s.role === 'init' ? result.initContainers : result.containers).push(s);
    }
    return result;
  }

  /** Starts reading a new container's process identity, so that its first status finds it ready. */
  prefetchUser(id: string): void {
    void this.#userOf(id, this.#inspect(id));
  }

  /** The identity the container's process runs as, when the VCH lets its image files be read. */
  async #userOf(
    id: string,
    inspected: Promise<Docker.ContainerInspectInfo | undefined>,
  ): Promise<ProcessIdentity | undefined> {
    if (!this.#identities) return undefined;
    const config = inspected.then((info) =>
      info
        ? {
            user: info.Config.User,
            groupAdd: info.HostConfig.GroupAdd ?? undefined,
            image: info.Image,
            ownFiles: mountsUserFiles((info.Mounts ?? []).map((m) => m.Destination)),
          }
        : undefined,
    );
    // Left out this time when it fails (a busy or restarting VCH); the next status read tries again.
    return this.#identities.of(id, config).catch(() => undefined);
  }

  #inspect(id: string): Promise<Docker.ContainerInspectInfo | undefined> {
    return callOrUndefined(this.#client, `inspect container ${id}`, () =>
      this.#client.docker.getContainer(id).inspect(),
    );
  }
}

/** The status of a vm-per-pod pod VM's sandbox record: running, as long as the pod VM exists. */
export function virtualSandboxStatus(sandbox: PodVmMember): ContainerStatus {
  return {
    name: sandbox.name,
    role: 'sandbox',
    attempt: 0,
    id: sandbox.id,
    image: '',
    imageId: '',
    state: { kind: 'running', startedAt: sandbox.createdAt },
    restartCount: 0,
  };
}

/** A vm-per-pod pod VM before its first container: nothing on the VCH yet but its virtual sandbox. */
export function emptyVmPerPodStatus(pod: PodIdentity, nodeName: string): PodVmStatus {
  const empty = { pod, members: [] };
  return {
    pod,
    nodeName,
    sandbox: virtualSandboxStatus(virtualSandbox(empty)),
    initContainers: [],
    containers: [],
  };
}
