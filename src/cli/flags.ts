// The flags of vic-kubelet. Each setting comes from, in order of precedence: a flag, its VK_*
// environment variable, the JSON config file (--config), then the defaults (which read $KUBECONFIG,
// $DOCKER_HOST, $VK_NODE_NAME and $LOG_LEVEL). One schema (config.ts) validates the merged result.
import { Command, Option } from 'commander';
import { productVersion } from '../shared/version.js';
import {
  defaults,
  merge,
  parseDurationSeconds,
  parsePairs,
  parseTaint,
  readConfigFile,
  validateConfig,
  type Config,
} from './config.js';

interface Flags {
  config?: string;
  nodeName?: string;
  kubeconfig?: string;
  vch?: string;
  vchTlsCa?: string;
  vchTlsCert?: string;
  vchTlsKey?: string;
  vchInsecureSkipTlsVerify?: boolean;
  sandboxImage?: string;
  vchLayout?: string;
  vchAbilities?: string;
  address?: string;
  port?: string;
  nodeIp?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsBootstrap?: boolean;
  clientCaFile?: string;
  allowedUnsafeSysctls?: string;
  nodeLabels?: string;
  taint?: string | false;
  capacity?: string;
  reserved?: string;
  maxPods?: string;
  logLevel?: string;
  logFormat?: string;
  kubernetesServiceAddress?: string;
  clusterDns?: string;
  clusterDomain?: string;
  leaderElect?: boolean;
  leaderElectLeaseDuration?: string;
  leaderElectRenewInterval?: string;
  leaderElectNamespace?: string;
  leaderElectIdentity?: string;
  healthzPort?: string;
  healthzAddress?: string;
  volumeStore?: string[];
  probeNetwork?: string;
}

/** Config path -> the flag that sets it, so a validation error names both. */
const flagOfPath: Record<string, string> = {
  nodeName: '--node-name',
  kubeconfig: '--kubeconfig',
  'vch.endpoint': '--vch',
  'vch.tls.ca': '--vch-tls-ca',
  'vch.tls.cert': '--vch-tls-cert',
  'vch.tls.key': '--vch-tls-key',
  'vch.tls.insecureSkipVerify': '--vch-insecure-skip-tls-verify',
  'vch.sandboxImage': '--sandbox-image',
  'kubelet.address': '--address',
  'kubelet.port': '--port',
  'kubelet.nodeIP': '--node-ip',
  'kubelet.tlsCertFile': '--tls-cert-file',
  'kubelet.tlsKeyFile': '--tls-private-key-file',
  'kubelet.tlsBootstrap': '--tls-bootstrap',
  'kubelet.clientCaFile': '--client-ca-file',
  labels: '--node-labels',
  taint: '--taint',
  capacity: '--capacity',
  reserved: '--reserved',
  maxPods: '--max-pods',
  logLevel: '--log-level',
  logFormat: '--log-format',
  kubernetesServiceAddress: '--kubernetes-service-address',
  clusterDns: '--cluster-dns',
  clusterDomain: '--cluster-domain',
  'leaderElection.enabled': '--leader-elect',
  'leaderElection.namespace': '--leader-elect-namespace',
  'leaderElection.identity': '--leader-elect-identity',
  'leaderElection.leaseDurationSeconds': '--leader-elect-lease-duration',
  'leaderElection.renewIntervalSeconds': '--leader-elect-renew-interval',
  'healthz.port': '--healthz-port',
  'healthz.address': '--healthz-address',
  volumeStores: '--volume-store',
  probeNetwork: '--probe-network',
};

export function flagOf(path: string): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const flag = flagOfPath[p];
    if (flag) return flag;
  }
  return undefined;
}

function fromFlags(f: Flags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const vch: Record<string, unknown> = {};
  const kubelet: Record<string, unknown> = {};
  if (f.nodeName) out.nodeName = f.nodeName;
  if (f.kubeconfig) out.kubeconfig = f.kubeconfig;
  if (f.vch) vch.endpoint = f.vch;
  if (f.sandboxImage) vch.sandboxImage = f.sandboxImage;
  if (f.vchLayout) vch.layout = f.vchLayout;
  if (f.vchAbilities) vch.abilities = parseAbilities(f.vchAbilities);
  if (f.vchTlsCa || f.vchTlsCert || f.vchTlsKey) {
    const tls: Record<string, string | boolean> = {};
    if (f.vchTlsCa) tls.ca = f.vchTlsCa;
    if (f.vchTlsCert) tls.cert = f.vchTlsCert;
    if (f.vchTlsKey) tls.key = f.vchTlsKey;
    vch.tls = tls;
  }
  if (f.vchInsecureSkipTlsVerify) vch.tls = { ...(vch.tls ?? {}), insecureSkipVerify: true };
  if (f.address) kubelet.address = f.address;
  if (f.port) kubelet.port = Number(f.port);
  if (f.nodeIp) kubelet.nodeIP = f.nodeIp;
  if (f.tlsCertFile) kubelet.tlsCertFile = f.tlsCertFile;
  if (f.tlsPrivateKeyFile) kubelet.tlsKeyFile = f.tlsPrivateKeyFile;
  if (f.tlsBootstrap) kubelet.tlsBootstrap = true;
  if (f.clientCaFile) kubelet.clientCaFile = f.clientCaFile;
  if (f.allowedUnsafeSysctls) {
    kubelet.allowedUnsafeSysctls = f.allowedUnsafeSysctls
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (f.nodeLabels) out.labels = parsePairs(f.nodeLabels, '--node-labels');
  if (f.taint === false) out.taint = null;
  else if (typeof f.taint === 'string') out.taint = parseTaint(f.taint);
  if (f.capacity) out.capacity = parsePairs(f.capacity, '--capacity');
  if (f.reserved) out.reserved = parsePairs(f.reserved, '--reserved');
  if (f.maxPods) out.maxPods = Number(f.maxPods);
  if (f.logLevel) out.logLevel = f.logLevel;
  if (f.logFormat) out.logFormat = f.logFormat;
  if (f.kubernetesServiceAddress) out.kubernetesServiceAddress = f.kubernetesServiceAddress;
  if (f.clusterDns) out.clusterDns = f.clusterDns.split(',').map((s) => s.trim());
  if (f.clusterDomain) out.clusterDomain = f.clusterDomain;
  const leader = leaderElectionFlags(f);
  if (Object.keys(leader).length) out.leaderElection = leader;
  if (f.healthzPort || f.healthzAddress) {
    out.healthz = {
      ...(f.healthzPort ? { port: Number(f.healthzPort) } : {}),
      ...(f.healthzAddress ? { address: f.healthzAddress } : {}),
    };
  }
  if (f.volumeStore?.length) out.volumeStores = f.volumeStore;
  if (f.probeNetwork) out.probeNetwork = f.probeNetwork;
  if (Object.keys(vch).length) out.vch = vch;
  if (Object.keys(kubelet).length) out.kubelet = kubelet;
  return out;
}

function leaderElectionFlags(f: Flags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.leaderElect !== undefined) out.enabled = f.leaderElect;
  if (f.leaderElectNamespace) out.namespace = f.leaderElectNamespace;
  if (f.leaderElectIdentity) out.identity = f.leaderElectIdentity;
  if (f.leaderElectLeaseDuration) {
    out.leaseDurationSeconds = parseDurationSeconds(
      f.leaderElectLeaseDuration,
      '--leader-elect-lease-duration',
    );
  }
  if (f.leaderElectRenewInterval) {
    out.renewIntervalSeconds = parseDurationSeconds(
      f.leaderElectRenewInterval,
      '--leader-elect-renew-interval',
    );
  }
  return out;
}

/** `exec=false,archives=true` as booleans; the config schema names the abilities it accepts. */
function parseAbilities(list: string): Record<string, unknown> {
  const pairs = parsePairs(list, '--vch-abilities');
  return Object.fromEntries(
    Object.entries(pairs).map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : v]),
  );
}

/** A value flag that may also come from VK_<FLAG> in the environment. */
function option(flags: string, description: string): Option {
  const long = /--([a-z-]+)/.exec(flags)?.[1] ?? '';
  return new Option(flags, description).env(`VK_${long.replace(/-/g, '_').toUpperCase()}`);
}

export function program(): Command {
  return new Command('vic-kubelet')
    .description('Makes a Virtual Container Host (a Docker Engine API endpoint) a Kubernetes node.')
    .version(productVersion, '--version', 'print the version of vic-kubelet')
    .addOption(option('--config <file>', 'JSON config file (the fields of the schema in src/cli/config.ts)'))
    .addOption(option('--node-name <name>', 'the Node name (default vic-<hostname>)'))
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default $KUBECONFIG, else in-cluster)')
    .addOption(
      option(
        '--vch <endpoint>',
        'the VCH: unix:///path, tcp://host:port or https://host:port (default $DOCKER_HOST)',
      ),
    )
    .addOption(option('--vch-tls-ca <file>', 'CA that signed the VCH certificate'))
    .addOption(option('--vch-tls-cert <file>', 'client certificate for the VCH'))
    .addOption(option('--vch-tls-key <file>', 'client key for the VCH'))
    .option(
      '--vch-insecure-skip-tls-verify',
      'TLS to the VCH without checking its certificate (not for production)',
    )
    .addOption(option('--sandbox-image <image>', 'image of each pod VM sandbox'))
    .addOption(
      option('--vch-layout <layout>', 'pod layout (default auto: from what the VCH can do)').choices([
        'auto',
        'shared',
        'vm-per-pod',
      ]),
    )
    .addOption(
      option('--vch-abilities <name=true|false,...>', 'override detected VCH abilities, e.g. exec=false'),
    )
    .addOption(option('--address <ip>', 'address the kubelet API listens on (default 0.0.0.0)'))
    .addOption(option('--port <port>', 'kubelet API port (default 10250)'))
    .addOption(option('--node-ip <ip>', 'the InternalIP the API server dials'))
    .addOption(option('--tls-cert-file <file>', 'serving certificate of the kubelet API'))
    .addOption(option('--tls-private-key-file <file>', 'its key'))
    .option(
      '--tls-bootstrap',
      'obtain the serving certificate from the cluster (kubernetes.io/kubelet-serving CSR)',
    )
    .addOption(
      option(
        '--client-ca-file <file>',
        'CA for client certificates (the API server’s kubelet client certificate)',
      ),
    )
    .addOption(
      option(
        '--allowed-unsafe-sysctls <name,prefix*,...>',
        'unsafe sysctls pods may set, beside the safe ones (e.g. net.core.somaxconn,kernel.msg*)',
      ),
    )
    .addOption(option('--node-labels <k=v,...>', 'extra Node labels'))
    .addOption(
      option(
        '--taint <key=value:Effect>',
        'the Node taint (default virtual-kubelet.io/provider=vic:NoSchedule)',
      ),
    )
    .option('--no-taint', 'register the Node without a taint')
    .addOption(option('--capacity <cpu=..,memory=..,pods=..>', 'replace capacity read from the VCH'))
    .addOption(option('--reserved <cpu=..,memory=..>', 'held back from Allocatable'))
    .addOption(option('--max-pods <n>', 'pods this node admits (default 110)'))
    .addOption(
      option(
        '--kubernetes-service-address <host:port>',
        'the API server as pod VMs reach it: KUBERNETES_SERVICE_HOST/PORT (default: the kubernetes service)',
      ),
    )
    .addOption(
      option(
        '--cluster-dns <ip,...>',
        'DNS server(s) of dnsPolicy ClusterFirst (none: pods fall back to Default)',
      ),
    )
    .addOption(
      option(
        '--cluster-domain <domain>',
        'the cluster domain of ClusterFirst search paths (default cluster.local)',
      ),
    )
    .addOption(
      new Option(
        '--leader-elect [bool]',
        'run as one of several replicas of this node: only the holder of the Lease vic-kubelet-<node> acts',
      )
        .env('VK_LEADER_ELECT')
        .argParser((v) => v !== 'false'),
    )
    .addOption(option('--leader-elect-lease-duration <duration>', 'leader election lease (default 10s)'))
    .addOption(
      option('--leader-elect-renew-interval <duration>', 'how often the leader renews it (default 2s)'),
    )
    .addOption(
      option(
        '--leader-elect-namespace <namespace>',
        'namespace of the Lease (default: the pod’s own, else default)',
      ),
    )
    .addOption(
      option('--leader-elect-identity <name>', 'this replica in the Lease (default <hostname>_<pid>)'),
    )
    .addOption(
      option('--healthz-port <port>', 'plain-HTTP /healthz for probes, in either role (default 0: off)'),
    )
    .addOption(option('--healthz-address <ip>', 'address of /healthz (default 127.0.0.1)'))
    .addOption(
      option(
        '--volume-store <name,...>',
        'VCH volume store(s) the StorageClass provisioner serves; repeatable (default: default)',
      ).argParser((value: string, previous: string[] | undefined) => [
        ...(previous ?? []),
        ...value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ]),
    )
    .addOption(
      option(
        '--probe-network <mode>',
        'where httpGet/tcpSocket probes run from: direct (vic-kubelet), in-pod (exec in the pod VM), or auto (checked once per pod; the default)',
      ).choices(['auto', 'direct', 'in-pod']),
    )
    .addOption(
      new Option('--log-level <level>', 'default $LOG_LEVEL, else info').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
      ]),
    )
    .addOption(
      option('--log-format <format>', 'text on a terminal, JSON otherwise (auto, the default)').choices([
        'auto',
        'json',
        'text',
      ]),
    )
    .addHelpText(
      'after',
      '\nPrecedence: a flag, then its VK_* environment variable, then --config, then the defaults.',
    )
    .exitOverride();
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const command = program();
  command.parse(argv);
  const flags = command.opts<Flags>();
  const file = flags.config ? readConfigFile(flags.config) : {};
  return validateConfig(merge(defaults(env), file, fromFlags(flags)), flagOf);
}
