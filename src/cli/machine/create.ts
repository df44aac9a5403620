// `vic-machine create` and `start`: check both endpoints, keep what was asked in the state folder,
// start the supervisor of vic-kubelet, and wait with progress until the Node is Ready.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { VicError } from '../../shared/errors.js';
import { productVersion } from '../../shared/version.js';
import type { TlsOptions } from '../../vch/client.js';
import { defaults, merge, validateConfig, type Config } from '../config.js';
import { flagOf } from '../flags.js';
import { formatLogLine } from '../log-lines.js';
import { viewNode, type NodeView } from './node-view.js';
import { kubeletRules } from './package-files.js';
import { checkPermissions, checkVch, loadCheckedKubeConfig, requiredPermissions } from './preflight.js';
import { startSupervisor } from './processes.js';
import { installStorageClasses } from './storage-classes.js';
import type { MachineRecord, MachineState } from './state.js';

export interface TlsFlags {
  tlsCa?: string;
  tlsServerCert?: string;
  tlsCertPath?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
  noTlsverify: boolean;
}

export interface CreateOptions extends TlsFlags {
  name: string;
  target: string;
  k8sServerAddress: string;
  k8sConfig: string;
  /** vic-kubelet settings beyond the endpoints (port, labels, taint, capacity, ...), as config fields. */
  kubelet: Record<string, unknown>;
  debug: boolean;
  timeoutMs: number;
}

export type Say = (line: string) => void;

/** The TLS files in effect: explicit flags first, then Docker's names in --tls-cert-path. */
export function resolveTls(flags: TlsFlags): MachineRecord['tls'] {
  const inPath = (file: string) => {
    if (!flags.tlsCertPath) return undefined;
    const path = join(flags.tlsCertPath, file);
    return existsSync(path) ? resolve(path) : undefined;
  };
  const abs = (file: string | undefined) => (file ? resolve(file) : undefined);
  const ca = abs(flags.tlsCa) ?? inPath('ca.pem');
  const serverCert = abs(flags.tlsServerCert);
  const clientCert = abs(flags.tlsClientCert) ?? inPath('cert.pem');
  const clientKey = abs(flags.tlsClientKey) ?? inPath('key.pem');
  if ((clientCert === undefined) !== (clientKey === undefined))
    throw new VicError(
      'Invalid',
      'the client certificate and its key go together (--tls-cert-path, or both files)',
    );
  return {
    ...(ca ? { ca } : {}),
    ...(serverCert ? { serverCert } : {}),
    ...(clientCert ? { clientCert } : {}),
    ...(clientKey ? { clientKey } : {}),
    noVerify: flags.noTlsverify,
  };
}

/** The certificates vic-kubelet trusts for the VCH: the CA, the VCH certificate itself, or both. */
function trustPem(tls: MachineRecord['tls']): Buffer | undefined {
  const files = [tls.ca, tls.serverCert].filter((f): f is string => f !== undefined);
  if (files.length === 0) return undefined;
  return Buffer.concat(files.map((f) => readFileSync(f)));
}

export function vchTlsOptions(tls: MachineRecord['tls']): TlsOptions | undefined {
  const ca = trustPem(tls);
  const options: TlsOptions = {
    ...(ca ? { ca } : {}),
    ...(tls.clientCert ? { cert: readFileSync(tls.clientCert) } : {}),
    ...(tls.clientKey ? { key: readFileSync(tls.clientKey) } : {}),
    ...(tls.noVerify ? { insecureSkipVerify: true } : {}),
  };
  return Object.keys(options).length > 0 ? options : undefined;
}

/** The vic-kubelet config file of this node, validated by vic-kubelet's own schema. */
function kubeletConfig(state: MachineState, record: MachineRecord, options: CreateOptions): Config {
  const tls = record.tls;
  const files = [tls.ca, tls.serverCert].filter((f): f is string => f !== undefined);
  let ca = files[0];
  if (files.length > 1) {
    ca = join(state.dir, 'vch-trust.pem');
    writeFileSync(ca, trustPem(tls) ?? '');
  }
  const vchTls = {
    ...(ca ? { ca } : {}),
    ...(tls.clientCert ? { cert: tls.clientCert } : {}),
    ...(tls.clientKey ? { key: tls.clientKey } : {}),
    ...(tls.noVerify ? { insecureSkipVerify: true } : {}),
  };
  const fields = {
    nodeName: record.name,
    kubeconfig: record.k8sConfig,
    vch: { endpoint: record.target, ...(Object.keys(vchTls).length ? { tls: vchTls } : {}) },
    logLevel: options.debug ? 'debug' : 'info',
    logFormat: 'json',
  };
  // Defaults from an empty environment: the supervisor's environment must not change the node.
  return validateConfig(merge(defaults({}), fields, options.kubelet), flagOf);
}

/** Checks the VCH and the cluster; returns the checked kubeconfig. */
export async function preflight(
  record: Pick<MachineRecord, 'target' | 'tls' | 'k8sConfig' | 'k8sServerAddress'>,
  say: Say,
  timeoutMs: number,
): Promise<KubeConfig> {
  const vch = await checkVch(record.target, vchTlsOptions(record.tls), Math.min(timeoutMs, 10_000));
  say(`✔ VCH ${record.target} answers: Docker ${vch.engineVersion} (API ${vch.apiVersion}, ${vch.os})`);
  const kc = loadCheckedKubeConfig(record.k8sConfig, record.k8sServerAddress);
  say(`✔ ${record.k8sConfig} names ${record.k8sServerAddress}`);
  const permissions = requiredPermissions(kubeletRules());
  await checkPermissions(kc, permissions);
  say(`✔ its user may do all ${permissions.length} things vic-kubelet does (deploy/rbac.yaml)`);
  return kc;
}

export async function create(state: MachineState, options: CreateOptions, say: Say): Promise<NodeView> {
  if (state.exists() && state.supervisorPid() !== undefined)
    throw new VicError(
      'Conflict',
      `virtual node "${options.name}" already runs (${state.dir}); \`vic-machine delete --name ${options.name}\` first`,
    );
  const record: MachineRecord = {
    name: options.name,
    createdAt: new Date().toISOString(),
    version: productVersion,
    target: options.target,
    tls: resolveTls(options),
    k8sServerAddress: options.k8sServerAddress,
    k8sConfig: resolve(options.k8sConfig),
    kubeletPort: 10250,
  };
  const kc = await preflight(record, say, options.timeoutMs);
  state.write(record, {});
  const config = kubeletConfig(state, record, options);
  record.kubeletPort = config.kubelet.port;
  state.write(record, config);
  say(`✔ state kept in ${state.dir}`);
  // issue 16: a StorageClass per volume store (vic-<store>); existing ones are left as they are.
  const classes = await installStorageClasses(kc, config.volumeStores);
  const ready = [...classes.created, ...classes.existing];
  if (ready.length) say(`✔ StorageClass ${ready.join(', ')} (${classes.created.length} created)`);
  if (classes.forbidden.length) {
    say(
      `! StorageClass ${classes.forbidden.join(', ')} not installed: the --k8s-config user may not create ` +
        'StorageClasses; an administrator applies deploy/storageclass.yaml (one per volume store)',
    );
  }
  return startAndWait(state, kc, say, options.timeoutMs);
}

/** `vic-machine start`: the supervisor again from the state folder (after a reboot, or a stop). */
export async function start(state: MachineState, say: Say, timeoutMs: number): Promise<NodeView> {
  const record = state.read();
  const kc = await preflight(record, say, timeoutMs);
  return startAndWait(state, kc, say, timeoutMs);
}

async function startAndWait(
  state: MachineState,
  kc: KubeConfig,
  say: Say,
  timeoutMs: number,
): Promise<NodeView> {
  // Heartbeats carry whole seconds: one written in the second the supervisor started counts.
  const since = new Date(Math.floor(Date.now() / 1000) * 1000);
  const pid = startSupervisor(state);
  say(`✔ supervisor started (pid ${pid}); vic-kubelet log: ${state.kubeletLog}`);
  const view = await waitForReady({ kc, state, timeoutMs, say, since });
  say(`✔ node ${state.name} is Ready`);
  return view;
}

/** The last lines of vic-kubelet's log, readable. */
export function logTail(state: MachineState, lines = 8): string {
  try {
    const text = readFileSync(state.kubeletLog, 'utf8').trimEnd().split('\n').slice(-lines);
    return text.map((l) => '    ' + formatLogLine(l)).join('\n');
  } catch {
    return '    (no log yet)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the Node is Ready by a heartbeat written `since` (a Node left by an earlier run reads
 * Ready for a while after its vic-kubelet is gone), saying what it sees as it changes.
 */
export async function waitForReady(options: {
  kc: KubeConfig;
  state: MachineState;
  timeoutMs: number;
  say: Say;
  since: Date;
}): Promise<NodeView> {
  const { kc, state, timeoutMs, say, since } = options;
  const started = Date.now();
  const restartsBefore = state.status().restarts;
  let last = '';
  let lastSaid = 0;
  for (;;) {
    const elapsed = Math.round((Date.now() - started) / 1000);
    const pid = state.kubeletPid();
    const view = await viewNode(kc, state.name, false);
    const fresh = view.heartbeat !== undefined && view.heartbeat >= since;
    const seen =
      pid === undefined
        ? 'vic-kubelet starting'
        : view.state === 'absent'
          ? `vic-kubelet running (pid ${pid}), node not registered yet`
          : view.state === 'Ready' && !fresh
            ? `node still Ready by an earlier heartbeat (${view.heartbeat?.toISOString() ?? '?'}), waiting for a new one`
            : view.state === 'unreachable'
              ? `API server unreachable: ${view.message ?? ''}`
              : `node ${view.state}${view.reason ? ` (${view.reason}${view.message ? `: ${view.message}` : ''})` : ''}`;
    if (view.state === 'Ready' && pid !== undefined && fresh) return view;
    if (seen !== last || Date.now() - lastSaid > 10_000) {
      say(`  … ${elapsed}s: ${seen}`);
      last = seen;
      lastSaid = Date.now();
    }
    const restarts = state.status().restarts - restartsBefore;
    if (restarts >= 3)
      throw new VicError(
        'Internal',
        `vic-kubelet exited ${restarts} times while starting; the end of its log:\n${logTail(state)}`,
      );
    if (Date.now() - started > timeoutMs)
      throw new VicError(
        'Timeout',
        `node ${state.name} not Ready after ${elapsed}s (last seen: ${seen}); it keeps running under its ` +
          `supervisor (\`vic-machine delete --name ${state.name}\` removes it). The end of its log:\n${logTail(state)}`,
      );
    await sleep(500);
  }
}
