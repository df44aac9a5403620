// `vic-machine ls`, `inspect`, `stop` and `delete`: what each virtual node is, and taking it away.
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { VicError, messageOf } from '../../shared/errors.js';
import { createVch } from '../../vch/index.js';
import { checkVch, type VchAnswer } from './preflight.js';
import { vchTlsOptions, type Say } from './create.js';
import { describeVch, viewNode, type NodeView } from './node-view.js';
import { stopSupervisor } from './processes.js';
import type { MachineRecord, MachineState, SupervisorStatus } from './state.js';

export interface Inspection {
  name: string;
  stateDir: string;
  version: { vicMachine: string; createdWith: string; kubelet?: string };
  vch: { target: string; reachable: boolean; engine?: VchAnswer; problem?: string };
  apiServer: string;
  kubeletPort: number;
  process: { supervisorPid?: number; kubeletPid?: number; running: boolean } & SupervisorStatus;
  node: NodeView;
  logs: { kubelet: string; supervisor: string };
}

function kubeConfigOf(record: MachineRecord): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(record.k8sConfig);
  return kc;
}

async function nodeOf(record: MachineRecord, withPods: boolean): Promise<NodeView> {
  try {
    return await viewNode(kubeConfigOf(record), record.name, withPods);
  } catch (err) {
    return { state: 'unreachable', message: messageOf(err) };
  }
}

export async function inspect(state: MachineState, vicMachineVersion: string): Promise<Inspection> {
  const record = state.read();
  const supervisorPid = state.supervisorPid();
  const kubeletPid = state.kubeletPid();
  let vch: Inspection['vch'];
  try {
    vch = {
      target: record.target,
      reachable: true,
      engine: await checkVch(record.target, vchTlsOptions(record.tls), 5000),
    };
  } catch (err) {
    vch = { target: record.target, reachable: false, problem: messageOf(err) };
  }
  const node = await nodeOf(record, true);
  return {
    name: record.name,
    stateDir: state.dir,
    version: {
      vicMachine: vicMachineVersion,
      createdWith: record.version,
      ...(node.kubeletVersion ? { kubelet: node.kubeletVersion } : {}),
    },
    vch,
    apiServer: record.k8sServerAddress,
    kubeletPort: record.kubeletPort,
    process: {
      ...state.status(),
      ...(supervisorPid !== undefined ? { supervisorPid } : {}),
      ...(kubeletPid !== undefined ? { kubeletPid } : {}),
      running: supervisorPid !== undefined,
    },
    node,
    logs: { kubelet: state.kubeletLog, supervisor: state.supervisorLog },
  };
}

export function describeInspection(i: Inspection): string {
  const p = i.process;
  const lastExit = p.lastExit
    ? `, last exit ${p.lastExit.signal ?? `code ${p.lastExit.code ?? '?'}`} at ${p.lastExit.at}`
    : '';
  const rows: [string, string][] = [
    ['Name', i.name],
    ['State folder', i.stateDir],
    [
      'Version',
      `vic-machine ${i.version.vicMachine} (created with ${i.version.createdWith}); node reports kubelet ${i.version.kubelet ?? 'unknown'}`,
    ],
    [
      'VCH',
      i.vch.reachable && i.vch.engine
        ? `${i.vch.target}: Docker ${i.vch.engine.engineVersion}, API ${i.vch.engine.apiVersion}`
        : `${i.vch.target}: ${i.vch.problem ?? 'unreachable'}`,
    ],
    ['Abilities', i.node.vch ? describeVch(i.node.vch) : 'unknown (the Node does not say yet)'],
    ['API server', i.apiServer],
    ['Kubelet port', String(i.kubeletPort)],
    [
      'Process',
      p.running
        ? `running: supervisor pid ${p.supervisorPid}, vic-kubelet pid ${p.kubeletPid ?? '(restarting)'}, ${p.restarts} restarts${lastExit}`
        : `stopped (\`vic-machine start --name ${i.name}\` starts it again)`,
    ],
    [
      'Node',
      `${i.node.state}${i.node.reason ? ` (${i.node.reason})` : ''}${i.node.message && i.node.state !== 'Ready' ? `: ${i.node.message}` : ''}`,
    ],
    ['Pods', i.node.pods === undefined ? 'unknown' : String(i.node.pods)],
    ['Log', i.logs.kubelet],
  ];
  return rows.map(([k, v]) => `${(k + ':').padEnd(14)}${v}`).join('\n');
}

export interface ListRow {
  name: string;
  process: 'running' | 'stopped';
  node: NodeView['state'];
  pods?: number;
  target: string;
}

export async function list(states: MachineState[]): Promise<ListRow[]> {
  return Promise.all(
    states.map(async (state) => {
      const record = state.read();
      const node = await nodeOf(record, true);
      return {
        name: record.name,
        process: state.supervisorPid() !== undefined ? ('running' as const) : ('stopped' as const),
        node: node.state,
        ...(node.pods !== undefined ? { pods: node.pods } : {}),
        target: record.target,
      };
    }),
  );
}

export function describeList(rows: ListRow[]): string {
  const table = [
    ['NAME', 'PROCESS', 'NODE', 'PODS', 'TARGET'],
    ...rows.map((r) => [r.name, r.process, r.node, String(r.pods ?? '?'), r.target]),
  ];
  const widths = table[0]?.map((_, c) => Math.max(...table.map((row) => row[c]?.length ?? 0))) ?? [];
  return table
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd((widths[c] ?? 0) + 2))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

export async function stop(state: MachineState, say: Say): Promise<void> {
  state.read();
  await stopSupervisor(state);
  say(`✔ vic-kubelet of ${state.name} stopped; the Node and its pod VMs stay`);
}

/**
 * Removes a virtual node: its processes, its Node and Lease, and its state folder. Pod VMs are only
 * removed with force (the pods bound to the node are then deleted at once, so their controllers
 * place them elsewhere); without it, a node that still has pods is left alone.
 */
export async function remove(state: MachineState, options: { force: boolean }, say: Say): Promise<void> {
  const record = state.read();
  const kc = kubeConfigOf(record);
  const core = kc.makeApiClient(CoreV1Api);
  const vch = createVch({
    endpoint: record.target,
    nodeName: record.name,
    ...(vchTlsOptions(record.tls) ? { tls: vchTlsOptions(record.tls) } : {}),
  });
  try {
    const pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${record.name}` }))
      .items;
    const podVms = await vch.pods.list().catch((err: unknown) => {
      if (options.force) {
        say(`! cannot list pod VMs on the VCH (${messageOf(err)}); they stay there`);
        return [];
      }
      throw err;
    });
    if (!options.force && (pods.length > 0 || podVms.length > 0))
      throw new VicError(
        'Conflict',
        `virtual node "${record.name}" still has ${pods.length} pods and ${podVms.length} pod VMs: ` +
          'delete them first, or use --force to remove them too',
      );
    await stopSupervisor(state);
    say(`✔ supervisor and vic-kubelet stopped`);
    for (const vm of podVms) await vch.pods.remove(vm.pod.uid);
    if (podVms.length) say(`✔ removed ${podVms.length} pod VMs from ${record.target}`);
    for (const pod of pods)
      await core
        .deleteNamespacedPod({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          gracePeriodSeconds: 0,
        })
        .catch(() => undefined);
    if (pods.length) say(`✔ deleted ${pods.length} pods bound to the node`);
    await core.deleteNode({ name: record.name }).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== 404) throw err;
    });
    await kc
      .makeApiClient(CoordinationV1Api)
      .deleteNamespacedLease({ name: record.name, namespace: 'kube-node-lease' })
      .catch(() => undefined);
    say(`✔ Node ${record.name} and its Lease deleted`);
    state.remove();
    say(`✔ state folder ${state.dir} removed`);
  } finally {
    vch.close();
  }
}
