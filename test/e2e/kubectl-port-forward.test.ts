// kubectl port-forward through the real API server to vic-kubelet, with the newest kubectl (WebSocket
// tunnel) and kubectl 1.27 (SPDY): HTTP requests from Node's client reach busybox httpd in the pod VM,
// one after another and several at once, with a body large enough to need flow control.
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import test from 'ava';
import { loggedUpgrades } from '../support/kubelet-client.js';
import { createPod, podOn, podWhere, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';
import { startKubectl, type LiveProcess } from '../support/pty.js';

// Debug level: the log says which transport each streaming upgrade arrived on.
const node = virtualNodeForFile(test, 'vk-pf', { args: ['--log-level', 'debug'] });

// How each reaches vic-kubelet: the node declares ExtendWebSocketsToKubelet, so the API server passes
// kubectl 1.37's WebSocket tunnel through unchanged; kubectl 1.27 speaks SPDY.
const kubectlVersions = [
  {
    label: 'kubectl 1.37',
    version: undefined,
    transport: 'websocket',
    protocol: 'SPDY/3.1+portforward.k8s.io',
  },
  { label: 'kubectl 1.27', version: '1.27', transport: 'spdy', protocol: 'portforward.k8s.io' },
] as const;

// 4 MiB of a known pseudo-random pattern, written by the pod, checked by hash here.
const bigSize = 4 * 1024 * 1024;

test.serial.before(async () => {
  await createPod(
    node.ns,
    'web',
    podOn(node.vk.nodeName, {
      containers: [
        shell(
          'httpd',
          [
            'mkdir -p /www',
            'echo hello-from-pod > /www/index.html',
            `head -c ${bigSize} /dev/urandom > /www/big.bin`,
            'sha256sum /www/big.bin | cut -d" " -f1 > /www/big.sha256',
            'exec httpd -f -p 8080 -h /www',
          ].join(' && '),
        ),
      ],
    }),
  );
  await podWhere(node.ns, 'web', 'httpd running', (p) =>
    (p.status?.containerStatuses ?? []).some((c) => c.ready === true),
  );
});

function fetch(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Starts kubectl port-forward to a free local port and resolves with that port once it listens. */
async function portForward(version: string | undefined): Promise<{ forward: LiveProcess; port: number }> {
  const forward = startKubectl(['port-forward', '-n', node.ns, 'pod/web', ':8080'], { version });
  const out = await forward.until(/Forwarding from 127\.0\.0\.1:\d+ -> 8080/);
  const port = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1]);
  return { forward, port };
}

for (const { label, version, transport, protocol } of kubectlVersions) {
  test(`${label}: port-forward carries HTTP requests to httpd in the pod`, async (t) => {
    const { forward, port } = await portForward(version);
    t.teardown(() => forward.kill('SIGKILL'));

    const index = await fetch(port, '/index.html');
    t.is(index.status, 200);
    t.is(index.body.toString(), 'hello-from-pod\n');

    // Another connection through the same kubectl, then several at once.
    const missing = await fetch(port, '/nope.html');
    t.is(missing.status, 404);
    const parallel = await Promise.all(Array.from({ length: 5 }, () => fetch(port, '/index.html')));
    t.deepEqual(
      parallel.map((r) => r.body.toString()),
      Array.from({ length: 5 }, () => 'hello-from-pod\n'),
    );

    const [big, expected] = await Promise.all([fetch(port, '/big.bin'), fetch(port, '/big.sha256')]);
    t.is(big.body.length, bigSize);
    t.is(createHash('sha256').update(big.body).digest('hex'), expected.body.toString().trim());

    t.true(forward.running, forward.describe());
    await forward.stop();
    const upgrades = loggedUpgrades(node.vk.output()).filter(
      (u) => u.path === `/portForward/${node.ns}/web` && u.transport === transport,
    );
    t.true(
      upgrades.some((u) => u.kind === 'portforward' && u.offered.includes(protocol)),
      `${label} arrives as ${transport} ${protocol}: ${JSON.stringify(upgrades)}`,
    );
  });

  test(`${label}: port-forward to a port nobody listens on reports that port`, async (t) => {
    const forward = startKubectl(['port-forward', '-n', node.ns, 'pod/web', ':9999'], { version });
    t.teardown(() => forward.kill('SIGKILL'));
    const out = await forward.until(/Forwarding from 127\.0\.0\.1:\d+ -> 9999/);
    const port = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 9999/.exec(out)?.[1]);
    await t.throwsAsync(fetch(port, '/index.html'));
    await forward.until(/error forwarding port 9999/, { stream: 'stderr' });
    // kubectl (client-go) gives up the whole session after an error on a forwarded connection.
    const exit = await forward.exit();
    t.is(exit.code, 1, forward.describe());
    t.regex(forward.stderr, /lost connection to pod/);
  });
}
