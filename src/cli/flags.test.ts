import test from 'ava';
import { parseArgs } from './flags.js';

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
    message: /nodeName: must be a lower-case DNS name/,
  });
  t.throws(() => parseArgs(argv('--node-name', 'ok', '--port', '70000')), { message: /kubelet\.port/ });
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
