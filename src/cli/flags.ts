// The flags of vic-kubelet, merged over the defaults and an optional JSON config file.
import { Command, Option } from 'commander';
import {
  defaults,
  merge,
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
  if (f.vchTlsCa || f.vchTlsCert || f.vchTlsKey)
    vch.tls = { ca: f.vchTlsCa, cert: f.vchTlsCert, key: f.vchTlsKey };
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
  if (Object.keys(vch).length) out.vch = vch;
  if (Object.keys(kubelet).length) out.kubelet = kubelet;
  return out;
}

/** `exec=false,archives=true` as booleans; the config schema names the abilities it accepts. */
function parseAbilities(list: string): Record<string, unknown> {
  const pairs = parsePairs(list, '--vch-abilities');
  return Object.fromEntries(
    Object.entries(pairs).map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : v]),
  );
}

export function parseArgs(argv: string[]): Config {
  const program = new Command('vic-kubelet')
    .description('Makes a Virtual Container Host (a Docker Engine API endpoint) a Kubernetes node.')
    .option('--config <file>', 'JSON config file (same fields as the flags; flags win)')
    .option('--node-name <name>', 'the Node name (default vic-<hostname>, or $VK_NODE_NAME)')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default $KUBECONFIG, else in-cluster)')
    .option(
      '--vch <endpoint>',
      'the VCH: unix:///path, tcp://host:port or https://host:port (default $DOCKER_HOST)',
    )
    .option('--vch-tls-ca <file>', 'CA that signed the VCH certificate')
    .option('--vch-tls-cert <file>', 'client certificate for the VCH')
    .option('--vch-tls-key <file>', 'client key for the VCH')
    .option('--sandbox-image <image>', 'image of each pod VM sandbox')
    .addOption(
      new Option('--vch-layout <layout>', 'pod layout (default auto: from what the VCH can do)').choices([
        'auto',
        'shared',
        'vm-per-pod',
      ]),
    )
    .option('--vch-abilities <name=true|false,...>', 'override detected VCH abilities, e.g. exec=false')
    .option('--address <ip>', 'address the kubelet API listens on (default 0.0.0.0)')
    .option('--port <port>', 'kubelet API port (default 10250)')
    .option('--node-ip <ip>', 'the InternalIP the API server dials')
    .option('--tls-cert-file <file>', 'serving certificate of the kubelet API')
    .option('--tls-private-key-file <file>', 'its key')
    .option(
      '--tls-bootstrap',
      'obtain the serving certificate from the cluster (kubernetes.io/kubelet-serving CSR)',
    )
    .option(
      '--client-ca-file <file>',
      'CA for client certificates (the API server’s kubelet client certificate)',
    )
    .option(
      '--allowed-unsafe-sysctls <name,prefix*,...>',
      'unsafe sysctls pods may set, beside the safe ones (e.g. net.core.somaxconn,kernel.msg*)',
    )
    .option('--node-labels <k=v,...>', 'extra Node labels')
    .option(
      '--taint <key=value:Effect>',
      'the Node taint (default virtual-kubelet.io/provider=vic:NoSchedule)',
    )
    .option('--no-taint', 'register the Node without a taint')
    .option('--capacity <cpu=..,memory=..,pods=..>', 'replace capacity read from the VCH')
    .option('--reserved <cpu=..,memory=..>', 'held back from Allocatable')
    .option('--max-pods <n>', 'pods this node admits (default 110)')
    .addOption(
      new Option('--log-level <level>').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    )
    .exitOverride();
  program.parse(argv);
  const flags = program.opts<Flags>();
  const file = flags.config ? readConfigFile(flags.config) : {};
  return validateConfig(merge(defaults(), file, fromFlags(flags)));
}
