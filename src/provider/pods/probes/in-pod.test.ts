// Network probes inside the pod VM against a scripted exec: the commands, the verdicts read from
// their output, a missing tool failing (never passing) the probe; and the choice of route.
import test from 'ava';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { FakeClock } from '../../../shared/fake-clock.js';
import { silentLogger } from '../../../shared/logger.js';
import { inPodCommand, lastHttpStatus, runInPod } from './in-pod.js';
import { ProbeRoutes, tcpReachability } from './network-route.js';
import { Prober } from './prober.js';
import type { ExecInContainer } from './runners.js';

const target = { uid: 'u1', containerName: 'main', containerId: 'c1', podIP: '10.0.0.2' };
const httpGet = {
  kind: 'httpGet' as const,
  scheme: 'HTTP' as const,
  port: 8080,
  path: '/ready',
  headers: [{ name: 'X-Probe', value: 'yes' }],
};

/** An exec that answers with this output and exit code, and keeps the commands it was given. */
function scripted(output: string, exitCode: number, seen: string[][] = []): ExecInContainer {
  return (_target, command, io) => {
    seen.push(command);
    io.stdout.write(output);
    return Promise.resolve({ exitCode });
  };
}

test('httpGet in the pod is wget -S to the pod IP with the kubelet’s User-Agent and the probe’s headers', (t) => {
  t.deepEqual(inPodCommand(httpGet, '10.0.0.2'), [
    'wget',
    '-q',
    '-S',
    '-O',
    '/dev/null',
    '-U',
    'kube-probe/1.37',
    '--header',
    'X-Probe: yes',
    'http://10.0.0.2:8080/ready',
  ]);
  t.deepEqual(inPodCommand({ kind: 'tcpSocket', port: 6379 }, '10.0.0.2'), [
    'nc',
    '-w',
    '1',
    '10.0.0.2',
    '6379',
  ]);
  t.is(lastHttpStatus('  HTTP/1.1 302 Found\n  Location: /x\n  HTTP/1.1 204 No Content\n'), 204);
  t.is(lastHttpStatus('wget: bad address'), undefined);
});

test('httpGet in the pod: the status wget saw decides, 200-399 pass, others fail with the kubelet message', async (t) => {
  const run = (output: string, exitCode: number) =>
    runInPod(httpGet, target, { exec: scripted(output, exitCode), timeoutMs: 1000 });
  t.deepEqual(await run('  HTTP/1.1 200 OK\n  Content-Length: 3\n', 0), { result: 'success', output: '' });
  t.deepEqual(await run('  HTTP/1.1 301 Moved\n  HTTP/1.1 200 OK\n', 0), { result: 'success', output: '' });
  t.deepEqual(
    await run('  HTTP/1.1 503 Service Unavailable\nwget: server returned error: HTTP/1.1 503\n', 1),
    { result: 'failure', output: 'HTTP probe failed with statuscode: 503' },
  );
  t.deepEqual(await run('wget: can’t connect to remote host (10.0.0.2): Connection refused\n', 1), {
    result: 'failure',
    output: 'Get "http://10.0.0.2:8080/ready": can’t connect to remote host (10.0.0.2): Connection refused',
  });
});

test('a container without wget or nc fails the probe and says why; grpc cannot run in the pod', async (t) => {
  const missing =
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "wget": executable file not found in $PATH: unknown\r\n';
  t.deepEqual(await runInPod(httpGet, target, { exec: scripted(missing, 126), timeoutMs: 1000 }), {
    result: 'failure',
    output: 'httpGet probe cannot run inside the pod VM: the container has no wget (exit code 126)',
  });
  t.deepEqual(
    await runInPod({ kind: 'tcpSocket', port: 6379 }, target, {
      exec: scripted('sh: nc: not found', 127),
      timeoutMs: 1000,
    }),
    {
      result: 'failure',
      output: 'tcpSocket probe cannot run inside the pod VM: the container has no nc (exit code 127)',
    },
  );
  const grpc = await runInPod({ kind: 'grpc', port: 9000, service: '' }, target, {
    exec: scripted('', 0),
    timeoutMs: 1000,
  });
  t.is(grpc.result, 'failure');
  t.regex(grpc.output, /^grpc probe cannot run inside the pod VM/);
});

test('tcpSocket in the pod: nc connecting passes, a refusal fails with its words; a hung exec times out', async (t) => {
  const tcp = { kind: 'tcpSocket' as const, port: 6379 };
  t.deepEqual(await runInPod(tcp, target, { exec: scripted('', 0), timeoutMs: 1000 }), {
    result: 'success',
    output: '',
  });
  t.deepEqual(
    await runInPod(tcp, target, {
      exec: scripted('nc: can’t connect to remote host (10.0.0.2): Connection refused\n', 1),
      timeoutMs: 1000,
    }),
    {
      result: 'failure',
      output: 'dial tcp 10.0.0.2:6379: can’t connect to remote host (10.0.0.2): Connection refused',
    },
  );
  const clock = new FakeClock(0);
  const hung: ExecInContainer = (_t, _c, io) =>
    new Promise((_resolve, reject) =>
      io.signal.addEventListener('abort', () => reject(new Error('aborted'))),
    );
  const pending = runInPod(tcp, target, { exec: hung, timeoutMs: 1000, clock });
  clock.advance(1000);
  t.deepEqual(await pending, { result: 'failure', output: 'dial tcp 10.0.0.2:6379: i/o timeout' });
});

test('auto decides the route once per pod from one connect; direct and in-pod never check', async (t) => {
  const checks: string[] = [];
  const routes = new ProbeRoutes('auto', (host, port) => {
    checks.push(`${host}:${port}`);
    return Promise.resolve('in-pod');
  });
  t.is(await routes.route('u1', '10.0.0.2', 8080), 'in-pod');
  t.is(await routes.route('u1', '10.0.0.2', 9090), 'in-pod');
  t.is(await routes.route('u2', '10.0.0.3', 8080), 'in-pod');
  t.deepEqual(checks, ['10.0.0.2:8080', '10.0.0.3:8080']);
  routes.forget('u1');
  await routes.route('u1', '10.0.0.2', 8080);
  t.is(checks.length, 3, 'a forgotten pod is checked again');
  const never = () => Promise.reject(new Error('must not check'));
  t.is(await new ProbeRoutes('direct', never).route('u1', '10.0.0.2', 80), 'direct');
  t.is(await new ProbeRoutes('in-pod', never).route('u1', '10.0.0.2', 80), 'in-pod');
});

test('the reachability check: a listening port and a refused one both mean the pod network is routed here', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  t.is(await tcpReachability('127.0.0.1', port, 2000), 'direct');
  await new Promise((r) => server.close(r));
  t.is(await tcpReachability('127.0.0.1', port, 2000), 'direct');
});

test('the prober runs network probes in the pod when told to, within the exec budget', async (t) => {
  const clock = new FakeClock(1_000_000);
  const inPod: string[] = [];
  let direct = 0;
  const prober = new Prober({
    exec: () => Promise.resolve({ exitCode: 0 }),
    clock,
    recorder: { record: () => undefined },
    logger: silentLogger,
    onChange: () => undefined,
    network: 'in-pod',
    maxConcurrentExec: 1,
    run: () => {
      direct += 1;
      return Promise.resolve({ result: 'success', output: '' });
    },
    runInPod: (handler, tgt) => {
      inPod.push(`${handler.kind} ${tgt.podIP} ${tgt.containerId}`);
      return Promise.resolve({ result: 'success', output: '' });
    },
  });
  const pod: V1Pod = {
    metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'i',
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
  prober.update(pod, {
    pod: { namespace: 'ns', name: 'web', uid: 'u1' },
    nodeName: 'n',
    podIP: '10.0.0.2',
    initContainers: [],
    containers: [
      {
        name: 'main',
        role: 'app',
        attempt: 0,
        id: 'c1',
        image: 'i',
        imageId: 'sha256:x',
        state: { kind: 'running', startedAt: new Date(clock.now()) },
        restartCount: 0,
      },
    ],
  });
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r));
  }
  const ready = prober.health('c1')?.ready;
  const metrics = (await prober.metrics.exposition()).text;
  prober.stop();
  t.is(direct, 0);
  t.true(inPod.length >= 2, inPod.join(', '));
  t.is(inPod[0], 'httpGet 10.0.0.2 c1');
  t.is(ready, true);
  t.regex(metrics, /vic_prober_probe_delay_seconds_count\{probe_type="Readiness"\} [1-9]/);
});
