// Pod VMs as the VCH knows them, rebuilt from container labels alone: one list call, grouped by pod UID.
import type Docker from 'dockerode';
import { call, type VchClient } from './client.js';
import { nodeFilter, parseLabels, podFilter, podNameFilter, SANDBOX_NAME } from './labels.js';
import type { PodVm, PodVmMember } from './types.js';

export interface MemberSource {
  id: string;
  name: string;
  image: string;
  state: string;
  createdAt: Date;
  labels: Record<string, string> | undefined;
}

export function sourceFromSummary(info: Docker.ContainerInfo): MemberSource {
  return {
    id: info.Id,
    name: (info.Names[0] ?? '').replace(/^\//, ''),
    image: info.Image,
    state: info.State,
    createdAt: new Date(info.Created * 1000),
    labels: info.Labels,
  };
}

export function sourceFromInspect(info: Docker.ContainerInspectInfo): MemberSource {
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    state: info.State.Status,
    createdAt: new Date(info.Created),
    labels: info.Config.Labels,
  };
}

/** Groups containers into pod VMs; containers without a complete label set are not ours and are skipped. */
export function groupPodVms(sources: readonly MemberSource[]): PodVm[] {
  const byUid = new Map<string, PodVm>();
  for (const src of sources) {
    const labels = parseLabels(src.labels);
    if (!labels) continue;
    let vm = byUid.get(labels.pod.uid);
    if (!vm) {
      vm = { pod: labels.pod, nodeName: labels.nodeName, members: [] };
      byUid.set(labels.pod.uid, vm);
    }
    const member: PodVmMember = {
      id: src.id,
      dockerName: src.name,
      name: labels.containerName,
      role: labels.role,
      attempt: labels.attempt,
      index: labels.index,
      image: src.image,
      state: src.state,
      createdAt: src.createdAt,
      ...(labels.specHash !== undefined ? { specHash: labels.specHash } : {}),
    };
    if (labels.role === 'sandbox') {
      // After a sandbox was replaced, the newest attempt is the pod VM's sandbox.
      if (!vm.sandbox || vm.sandbox.attempt < member.attempt) {
        vm.sandbox = member;
        if (labels.terminationGracePeriodSeconds !== undefined) {
          vm.terminationGracePeriodSeconds = labels.terminationGracePeriodSeconds;
        }
      }
    } else {
      vm.members.push(member);
      if (labels.layout === 'vm-per-pod') vm.layout = 'vm-per-pod';
      if (
        vm.terminationGracePeriodSeconds === undefined &&
        labels.terminationGracePeriodSeconds !== undefined
      ) {
        vm.terminationGracePeriodSeconds = labels.terminationGracePeriodSeconds;
      }
    }
  }
  for (const vm of byUid.values()) {
    vm.members.sort((a, b) => roleOrder(a) - roleOrder(b) || a.index - b.index || a.attempt - b.attempt);
    if (vm.layout === 'vm-per-pod' && !vm.sandbox) vm.sandbox = virtualSandbox(vm);
  }
  return [...byUid.values()];
}

const VIRTUAL_SANDBOX_PREFIX = 'vm-per-pod:';

/**
 * A vm-per-pod pod VM has no sandbox container: its app container owns the pod IP. It still shows
 * one sandbox, a record with no Docker object behind it, "running" for as long as the pod VM has any
 * container, so that whatever reads a pod VM (status, the pod controller, adoption after a restart)
 * sees the same shape in both layouts. Starting, stopping or removing it does nothing.
 */
export function virtualSandbox(vm: Pick<PodVm, 'pod' | 'members'>): PodVmMember {
  const created = vm.members.reduce<Date | undefined>(
    (a, m) => (!a || m.createdAt < a ? m.createdAt : a),
    undefined,
  );
  return {
    id: `${VIRTUAL_SANDBOX_PREFIX}${vm.pod.uid}`,
    dockerName: '',
    name: SANDBOX_NAME,
    role: 'sandbox',
    attempt: 0,
    index: 0,
    image: '',
    state: 'running',
    createdAt: created ?? new Date(),
  };
}

export function isVirtualSandbox(id: string): boolean {
  return id.startsWith(VIRTUAL_SANDBOX_PREFIX);
}

/** The pod UID a virtual sandbox stands for. */
export function podUidOfVirtualSandbox(id: string): string {
  return id.slice(VIRTUAL_SANDBOX_PREFIX.length);
}

/**
 * The container that owns the pod's network identity (IP, ports): the sandbox, or in the vm-per-pod
 * layout the newest attempt of its app container.
 */
export function networkOwner(vm: PodVm): PodVmMember | undefined {
  if (vm.sandbox && !isVirtualSandbox(vm.sandbox.id)) return vm.sandbox;
  return latestMembers(vm).find((m) => m.role === 'app');
}

function roleOrder(m: PodVmMember): number {
  return m.role === 'init' ? 0 : m.role === 'app' ? 1 : 2;
}

/** The newest attempt of each container name. */
export function latestMembers(vm: PodVm): PodVmMember[] {
  const latest = new Map<string, PodVmMember>();
  for (const m of vm.members) {
    const seen = latest.get(m.name);
    if (!seen || seen.attempt < m.attempt) latest.set(m.name, m);
  }
  return [...latest.values()];
}

/**
 * The node's pod VMs; given a pod's namespace and name, only that pod's (the engine filters, so a sync
 * of one pod does not list, and the engine does not serialize, every container of a node of 500 pods).
 */
export async function listPodVms(
  client: VchClient,
  nodeName: string,
  of?: { namespace: string; name: string },
): Promise<PodVm[]> {
  const label = of ? podNameFilter(nodeName, of) : nodeFilter(nodeName);
  const containers = await call(client, `list pod VMs of node ${nodeName}`, () =>
    client.docker.listContainers({ all: true, filters: { label } }),
  );
  return groupPodVms(containers.map(sourceFromSummary));
}

export async function getPodVm(client: VchClient, nodeName: string, uid: string): Promise<PodVm | undefined> {
  const containers = await call(client, `list containers of pod ${uid}`, () =>
    client.docker.listContainers({ all: true, filters: { label: podFilter(nodeName, uid) } }),
  );
  return groupPodVms(containers.map(sourceFromSummary))[0];
}
