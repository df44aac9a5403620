#!/usr/bin/env node
// vic-machine: the VCH administrator's tool. It creates, lists, inspects, stops, starts and deletes
// virtual nodes (one supervised vic-kubelet per VCH, its state under `stateRoot()`), and renders the
// in-cluster deployment of one. Flag names follow the original vmware/vic vic-machine where they exist.
import { Command, Option } from 'commander';
import { messageOf } from '../shared/errors.js';
import { productVersion } from '../shared/version.js';
import { parsePairs, parseTaint } from './config.js';
import { describeInspection, describeList, inspect, list, remove, stop } from './machine/admin.js';
import { create, resolveTls, start, type TlsFlags } from './machine/create.js';
import { parseDuration } from './machine/duration.js';
import { renderManifests, toYaml } from './machine/manifests.js';
import { kubeletCommand } from './machine/processes.js';
import { listMachines, MachineState, stateRoot } from './machine/state.js';
import { storeName } from './machine/storage-classes.js';
import { runSupervisor } from './machine/supervisor.js';

interface GlobalFlags {
  stateDir: string;
}

interface NodeFlags extends Omit<TlsFlags, 'noTlsverify'> {
  name: string;
  ca?: string;
  /** false with --no-tlsverify (commander's negated flag). */
  tlsverify: boolean;
  target: string;
  k8sServerAddress?: string;
  k8sConfig?: string;
  kubeletPort?: string;
  kubeletAddress?: string;
  nodeIp?: string;
  clientCaFile?: string;
  sandboxImage?: string;
  nodeLabels?: string;
  taint?: string | false;
  capacity?: string;
  reserved?: string;
  maxPods?: string;
  /** Store names (`--volume-store`, the label after the colon). */
  volumeStore?: string[];
  timeout: string;
  debug?: boolean;
}

const say = (line: string) => process.stderr.write(line + '\n');
const nameFormat = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function checkName(name: string): string {
  if (!nameFormat.test(name))
    throw new Error(`--name "${name}" must be a lower-case DNS name (it names the Node)`);
  return name;
}

function state(program: Command, name: string): MachineState {
  return new MachineState(program.opts<GlobalFlags>().stateDir, checkName(name));
}

/** The target and TLS flags of the original tool, shared by create and manifests. */
function vchOptions(command: Command): Command {
  return command
    .requiredOption('--target <endpoint>', 'the VCH: its Docker API endpoint (tcp://host:2376, unix:///path)')
    .option('--tls-ca <file>', 'CA that signed the VCH certificate')
    .addOption(new Option('--ca <file>', 'the original tool’s short name of --tls-ca').hideHelp())
    .option('--tls-server-cert <file>', 'the VCH certificate itself, trusted as is (a self-signed VCH)')
    .option('--tls-cert-path <dir>', 'folder with ca.pem, cert.pem and key.pem (Docker’s names)')
    .option('--tls-client-cert <file>', 'client certificate for a VCH that verifies clients')
    .option('--tls-client-key <file>', 'its key')
    .option('--no-tlsverify', 'encrypt but do not verify the VCH certificate (not for production)')
    .option('--node-labels <k=v,...>', 'extra Node labels')
    .option(
      '--taint <key=value:Effect>',
      'the Node taint (default virtual-kubelet.io/provider=vic:NoSchedule)',
    )
    .option('--no-taint', 'register the Node without a taint')
    .option('--capacity <cpu=..,memory=..,pods=..>', 'replace the capacity read from the VCH')
    .option('--reserved <cpu=..,memory=..>', 'held back from Allocatable')
    .option('--max-pods <n>', 'pods the node admits (default 110)')
    .option('--sandbox-image <image>', 'image of each pod VM sandbox')
    .option(
      '--volume-store <[datastore/path:]name>',
      'a VCH volume store for persistent volumes, with its StorageClass vic-<name>; repeatable',
      (value: string, previous: string[]) => [...previous, storeName(value)],
      [] as string[],
    );
}

function tlsFlags(f: NodeFlags): TlsFlags {
  const tlsCa = f.tlsCa ?? f.ca;
  return {
    ...(tlsCa ? { tlsCa } : {}),
    ...(f.tlsServerCert ? { tlsServerCert: f.tlsServerCert } : {}),
    ...(f.tlsCertPath ? { tlsCertPath: f.tlsCertPath } : {}),
    ...(f.tlsClientCert ? { tlsClientCert: f.tlsClientCert } : {}),
    ...(f.tlsClientKey ? { tlsClientKey: f.tlsClientKey } : {}),
    noTlsverify: !f.tlsverify,
  };
}

/** vic-kubelet config fields for the node flags. */
function kubeletFields(f: NodeFlags): Record<string, unknown> {
  const kubelet: Record<string, unknown> = {};
  if (f.kubeletPort) kubelet.port = Number(f.kubeletPort);
  if (f.kubeletAddress) kubelet.address = f.kubeletAddress;
  if (f.nodeIp) kubelet.nodeIP = f.nodeIp;
  if (f.clientCaFile) kubelet.clientCaFile = f.clientCaFile;
  const out: Record<string, unknown> = { kubelet };
  if (f.sandboxImage) out.vch = { sandboxImage: f.sandboxImage };
  if (f.nodeLabels) out.labels = parsePairs(f.nodeLabels, '--node-labels');
  if (f.taint === false) out.taint = null;
  else if (typeof f.taint === 'string') out.taint = parseTaint(f.taint);
  if (f.capacity) out.capacity = parsePairs(f.capacity, '--capacity');
  if (f.reserved) out.reserved = parsePairs(f.reserved, '--reserved');
  if (f.maxPods) out.maxPods = Number(f.maxPods);
  if (f.volumeStore?.length) out.volumeStores = f.volumeStore;
  return out;
}

/** The same node flags as vic-kubelet arguments, for the in-cluster Deployment. */
function kubeletArgs(f: NodeFlags): string[] {
  const args: string[] = [];
  if (f.nodeLabels) args.push(`--node-labels=${f.nodeLabels}`);
  if (f.taint === false) args.push('--no-taint');
  else if (typeof f.taint === 'string') args.push(`--taint=${f.taint}`);
  if (f.capacity) args.push(`--capacity=${f.capacity}`);
  if (f.reserved) args.push(`--reserved=${f.reserved}`);
  if (f.maxPods) args.push(`--max-pods=${f.maxPods}`);
  if (f.sandboxImage) args.push(`--sandbox-image=${f.sandboxImage}`);
  for (const store of f.volumeStore ?? []) args.push(`--volume-store=${store}`);
  return args;
}

export function program(): Command {
  const root = new Command('vic-machine')
    .description('Creates and manages virtual nodes: one supervised vic-kubelet per VCH.')
    .version(productVersion, '--version', 'print the version of vic-machine')
    .addOption(
      new Option('--state-dir <dir>', 'where virtual nodes are kept')
        .env('VIC_MACHINE_STATE_DIR')
        .default(stateRoot()),
    )
    .showHelpAfterError();

  vchOptions(
    root
      .command('create')
      .description('check the VCH and the cluster, run vic-kubelet supervised, wait until the node is Ready')
      .requiredOption('--name <name>', 'the virtual node’s name (its Node object)'),
  )
    .option('--k8s-server-address <url>', 'the API server, e.g. https://10.0.0.1:6443 (with --k8s-config)')
    .option(
      '--k8s-config <file>',
      'kubeconfig for that API server, as vic-kubelet’s identity (with --k8s-server-address)',
    )
    .option('--kubelet-port <port>', 'port of the kubelet API (default 10250)')
    .option('--kubelet-address <ip>', 'address the kubelet API listens on (default 0.0.0.0)')
    .option('--node-ip <ip>', 'the node InternalIP the API server dials')
    .option('--client-ca-file <file>', 'CA of the API server’s kubelet client certificate')
    .option('--timeout <duration>', 'how long to wait for the node to be Ready', '3m0s')
    .option('--debug', 'vic-kubelet logs at debug level')
    .action(async (f: NodeFlags) => {
      if (!f.k8sServerAddress || !f.k8sConfig)
        throw new Error('--k8s-server-address and --k8s-config are required together');
      const view = await create(
        state(root, f.name),
        {
          ...tlsFlags(f),
          name: f.name,
          target: f.target,
          k8sServerAddress: f.k8sServerAddress,
          k8sConfig: f.k8sConfig,
          kubelet: kubeletFields(f),
          debug: f.debug === true,
          timeoutMs: parseDuration(f.timeout),
        },
        say,
      );
      process.stdout.write(`${f.name}\t${view.state}\n`);
    });

  root
    .command('start')
    .description('start a created virtual node again from its state (after a reboot or a stop)')
    .option('--name <name>', 'the virtual node')
    .option('--all', 'every virtual node in the state folder (for a boot script)')
    .option('--timeout <duration>', 'how long to wait for the node to be Ready', '3m0s')
    .action(async (f: { name?: string; all?: boolean; timeout: string }) => {
      const targets = f.all ? listMachines(root.opts<GlobalFlags>().stateDir) : [state(root, f.name ?? '')];
      for (const s of targets) await start(s, say, parseDuration(f.timeout));
    });

  root
    .command('stop')
    .description('stop vic-kubelet and its supervisor; the Node and its pod VMs stay')
    .requiredOption('--name <name>', 'the virtual node')
    .action(async (f: { name: string }) => stop(state(root, f.name), say));

  root
    .command('ls')
    .description('list the virtual nodes of this machine')
    .option('--json', 'machine-readable output')
    .action(async (f: { json?: boolean }) => {
      const rows = await list(listMachines(root.opts<GlobalFlags>().stateDir));
      process.stdout.write((f.json ? JSON.stringify(rows, null, 2) : describeList(rows)) + '\n');
    });

  root
    .command('inspect')
    .description('endpoints, process, node state, pod count and versions of a virtual node')
    .requiredOption('--name <name>', 'the virtual node')
    .option('--json', 'machine-readable output')
    .action(async (f: { name: string; json?: boolean }) => {
      const i = await inspect(state(root, f.name), productVersion);
      process.stdout.write((f.json ? JSON.stringify(i, null, 2) : describeInspection(i)) + '\n');
    });

  root
    .command('delete')
    .description('stop a virtual node and delete its Node, Lease and state (with --force, its pod VMs too)')
    .requiredOption('--name <name>', 'the virtual node')
    .option('--force', 'also remove its pod VMs and the pods bound to it')
    .action(async (f: { name: string; force?: boolean }) =>
      remove(state(root, f.name), { force: f.force === true }, say),
    );

  vchOptions(
    root
      .command('manifests')
      .description('print the in-cluster deployment of a virtual node (namespace, RBAC, Secret, Deployment)')
      .requiredOption('--name <name>', 'the virtual node’s name'),
  )
    .option('--namespace <ns>', 'namespace of vic-kubelet', 'vic-system')
    .option('--image <image>', 'the vic-kubelet image (deploy/Dockerfile)', `vic-kubelet:${productVersion}`)
    .action((f: NodeFlags & { namespace: string; image: string }) => {
      const objects = renderManifests({
        name: checkName(f.name),
        namespace: f.namespace,
        target: f.target,
        image: f.image,
        tls: resolveTls(tlsFlags(f)),
        kubeletArgs: kubeletArgs(f),
        volumeStores: f.volumeStore?.length ? f.volumeStore : ['default'],
      });
      process.stdout.write(toYaml(objects));
    });

  root
    .command('supervise', { hidden: true })
    .requiredOption('--name <name>')
    .action(async (f: { name: string }) => {
      const s = state(root, f.name);
      await runSupervisor({ state: s, kubelet: kubeletCommand(s) });
    });

  return root;
}

program()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    say(`vic-machine: ${messageOf(err)}`);
    process.exit(1);
  });
