import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { productVersion } from '../shared/version.js';
import { flagOf, parseArgs } from './flags.js';

const argv = (...args: string[]) => ['node', 'vic-kubelet', ...args];

test('defaults give a tainted node on port 10250', (t) => {
  const config = parseArgs(argv('--node-name', 'vic-a', '--vch', 'unix:///tmp/d.sock'));
  t.is(config.nodeName, 'vic-a');
  t.is(config.vch.endpoint, 'unix:///tmp/d.sock');
  t.is(config.kubelet.port, 10250);
  t.deepEqual(config.taint, { key: 'virtual-kubelet.io/provider', value: 'vic', effect: 'NoSchedule' });
  t.is(config.maxPods, 110);
});

test('flags set labels, taint, capacity, reserve and TLS files', (t) => {
  const config = parseArgs(
    argv(
      '--node-name=vic-b',
      '--node-labels',
      'zone=a,team=x',
      '--taint',
      'edge=only:NoExecute',
      '--capacity',
      'cpu=8,memory=16Gi',
      '--reserved',
      'cpu=500m',
      '--port',
      '10300',
      '--tls-cert-file',
      '/c.pem',
      '--tls-private-key-file',
      '/k.pem',
    ),
  );
  t.deepEqual(config.labels, { zone: 'a', team: 'x' });
  t.deepEqual(config.taint, { key: 'edge', value: 'only', effect: 'NoExecute' });
  t.deepEqual(config.capacity, { cpu: '8', memory: '16Gi' });
  t.deepEqual(config.reserved, { cpu: '500m' });
  t.is(config.kubelet.port, 10300);
  t.is(config.kubelet.tlsCertFile, '/c.pem');
});

test('--no-taint registers the node without a taint', (t) => {
  t.is(parseArgs(argv('--node-name', 'vic-c', '--no-taint')).taint, null);
});

test('bad input is refused with a message that names the problem', (t) => {
  t.throws(() => parseArgs(argv('--node-name', 'Not_A_Name')), {
    message: /nodeName \(--node-name\): must be a lower-case DNS name/,
  });
  t.throws(() => parseArgs(argv('--node-name', 'ok', '--port', '70000')), {
    message: /kubelet\.port \(--port\): Too big/,
  });
  t.throws(() => parseArgs(argv('--node-name', 'ok', '--taint', 'key:Sometimes')), {
    message: /--taint: "key:Sometimes"/,
  });
  t.throws(() => parseArgs(argv('--node-name', 'ok', '--node-labels', 'novalue')), {
    message: /--node-labels: "novalue" is not key=value/,
  });
  t.throws(() => parseArgs(argv('--node-name', 'ok', '--capacity', 'gpus=2')), { message: /capacity/ });
  t.throws(() => parseArgs(argv('--node-name', 'ok', '--config', '/nonexistent.json')), {
    message: /cannot read config file/,
  });
});

test('--vch-layout and --vch-abilities override what is detected of the VCH; a wrong name is refused', (t) => {
  const config = parseArgs(argv('--vch-layout', 'vm-per-pod', '--vch-abilities', 'exec=false,archives=true'));
  t.is(config.vch.layout, 'vm-per-pod');
  t.deepEqual(config.vch.abilities, { exec: false, archives: true });
  t.throws(() => parseArgs(argv('--vch-abilities', 'teleport=true')));
  t.throws(() => parseArgs(argv('--vch-layout', 'sideways')));
});

function configFile(contents: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vk-flags-')), 'config.json');
  writeFileSync(file, JSON.stringify(contents));
  return file;
}

// The environment is process-wide: these tests run one after another and restore what they set.
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test.serial('a flag wins over its VK_* variable, which wins over the config file', (t) => {
  const file = configFile({ nodeName: 'from-file', kubelet: { port: 10301 }, maxPods: 7 });
  const config = withEnv({ VK_PORT: '10302', VK_NODE_NAME: 'from-env' }, () =>
    parseArgs(argv('--config', file, '--node-name', 'from-flag')),
  );
  t.is(config.nodeName, 'from-flag');
  t.is(config.kubelet.port, 10302);
  t.is(config.maxPods, 7);
});

test.serial('every setting can come from the environment', (t) => {
  const config = withEnv(
    {
      VK_NODE_NAME: 'env-node',
      VK_VCH: 'tcp://vch:2376',
      VK_VCH_TLS_CA: '/ca.pem',
      VK_NODE_LABELS: 'zone=b',
      VK_TAINT: 'k=v:NoExecute',
      VK_MAX_PODS: '12',
      VK_LOG_FORMAT: 'json',
    },
    () => parseArgs(argv()),
  );
  t.is(config.nodeName, 'env-node');
  t.is(config.vch.endpoint, 'tcp://vch:2376');
  t.deepEqual(config.vch.tls, { ca: '/ca.pem' });
  t.deepEqual(config.labels, { zone: 'b' });
  t.deepEqual(config.taint, { key: 'k', value: 'v', effect: 'NoExecute' });
  t.is(config.maxPods, 12);
  t.is(config.logFormat, 'json');
});

test('a config file field of the wrong type or unknown is refused by name', (t) => {
  t.throws(() => parseArgs(argv('--config', configFile({ nodeName: 'ok', maxPods: 'many' }))), {
    message: /maxPods \(--max-pods\): Invalid input: expected number/,
  });
  t.throws(() => parseArgs(argv('--config', configFile({ nodeName: 'ok', kubelet: { colour: 'red' } }))), {
    message: /kubelet: Unrecognized key: "colour"/,
  });
});

test('flagOf names the flag of a nested field', (t) => {
  t.is(flagOf('vch.tls.ca'), '--vch-tls-ca');
  t.is(flagOf('capacity.cpu'), '--capacity');
  t.is(flagOf('nothing'), undefined);
});

test('--version prints the product version', (t) => {
  let printed = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string) => {
    printed += chunk;
    return true;
  };
  try {
    t.throws(() => parseArgs(argv('--version')), { code: 'commander.version' } as never);
  } finally {
    process.stdout.write = write;
  }
  t.is(printed.trim(), productVersion);
});

test('--volume-store names the stores the provisioner serves: repeated or comma-separated, default "default"', (t) => {
  const base = ['--node-name', 'vic-a', '--vch', 'unix:///tmp/d.sock'];
  t.deepEqual(parseArgs(argv(...base), {}).volumeStores, ['default']);
  t.deepEqual(
    parseArgs(argv(...base, '--volume-store', 'fast,bulk', '--volume-store', 'nfs'), {}).volumeStores,
    ['fast', 'bulk', 'nfs'],
  );
  t.throws(() => parseArgs(argv(...base, '--volume-store', 'bad/name'), {}), {
    message: /volumeStores.*--volume-store/,
  });
});

test('--probe-network picks where network probes run from; unset is left to the daemon (auto)', (t) => {
  t.is(parseArgs(argv('--probe-network', 'in-pod')).probeNetwork, 'in-pod');
  t.is(parseArgs(argv()).probeNetwork, undefined);
  t.throws(() => parseArgs(argv('--probe-network', 'sideways')));
});
