// The pod lifecycle through the real cluster: preStop hooks before the stop signal, a failed postStart
// hook, termination messages in `kubectl get pod -o json`, native sidecars beside the app and in a
// Job, activeDeadlineSeconds (also shortened on a running pod), and a force delete with grace 0.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, kubectl } from '../support/env.js';
import { containerStatus, core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';
import { podVmContainers } from '../support/vic-kubelet.js';

const node = virtualNodeForFile(test, 'vk-lifecycle');
const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);

/** The host as pod VMs reach it: the VCH bridge address the test environment exports. */
function hostForPods(): string {
  const address = process.env.VK_APISERVER_POD_ADDRESS;
  if (!address) throw new Error('VK_APISERVER_POD_ADDRESS is not set: source the test environment');
  return address.slice(0, address.lastIndexOf(':'));
}

/** An HTTP server on every address that records the paths it is asked for, in order. */
async function recorder(): Promise<{ port: number; paths: string[]; close(): void }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { port: (server.address() as AddressInfo).port, paths, close: () => server.close() };
}

test('preStop: the hook’s side effect happens before the container gets its stop signal', async (t) => {
  t.timeout(120_000);
  const seen = await recorder();
  t.teardown(() => seen.close());
  const url = `http://${hostForPods()}:${seen.port}`;
  await createPod(
    node.ns,
    'prestop',
    on({
      terminationGracePeriodSeconds: 20,
      containers: [
        shell('main', `trap 'wget -q -O- ${url}/term; exit 0' TERM; while true; do sleep 1; done`, {
          lifecycle: { preStop: { exec: { command: ['sh', '-c', `wget -q -O- ${url}/prestop; sleep 1`] } } },
        }),
      ],
    }),
  );
  await podWhere(node.ns, 'prestop', 'running', (p) => !!containerStatus(p, 'main')?.state?.running);
  const deleted = await kubectl(['delete', 'pod', 'prestop', '-n', node.ns, '--wait=true', '--timeout=60s']);
  t.is(deleted.exitCode, 0, deleted.stderr);
  await eventually(
    'the stop signal reached the container',
    async () => (seen.paths.includes('/term') ? true : undefined),
    { lastSeen: () => seen.paths },
  );
  t.deepEqual(seen.paths, ['/prestop', '/term']);
});

test('postStart: a failing hook kills the container with FailedPostStartHook; the restart policy decides', async (t) => {
  t.timeout(120_000);
  await createPod(
    node.ns,
    'poststart',
    on({
      restartPolicy: 'Never',
      containers: [
        shell('main', 'sleep 3600', {
          lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 7'] } } },
        }),
      ],
    }),
  );
  const failed = await podWhere(
    node.ns,
    'poststart',
    'phase Failed',
    (p) => p.status?.phase === 'Failed',
    90_000,
  );
  t.truthy(containerStatus(failed, 'main')?.state?.terminated);
  const events = await podEvents(node.ns, 'poststart');
  const hook = events.find((e) => e.reason === 'FailedPostStartHook');
  t.truthy(hook, `events: ${events.map((e) => e.reason).join(', ')}`);
  t.false(hook?.message?.includes('exit 7') ?? true, 'the hook’s command is not in the event');
});

test('termination messages appear in kubectl get pod -o json: from the default and a custom path, and from the log on error', async (t) => {
  t.timeout(120_000);
  await createPod(
    node.ns,
    'message',
    on({
      restartPolicy: 'Never',
      containers: [
        shell('file', 'echo "finished cleanly" > /tmp/termination-log', {
          terminationMessagePath: '/tmp/termination-log',
        }),
        shell('default', 'echo "written to the default path" > /dev/termination-log'),
        shell('logs', 'echo "first line"; echo "it broke"; exit 4', {
          terminationMessagePolicy: 'FallbackToLogsOnError',
        }),
      ],
    }),
  );
  await podWhere(node.ns, 'message', 'phase Failed', (p) => p.status?.phase === 'Failed', 90_000);
  const json = await eventually('both termination messages', async () => {
    const out = await kubectl(['get', 'pod', 'message', '-n', node.ns, '-o', 'json']);
    const pod = JSON.parse(out.stdout) as k8s.V1Pod;
    const file = containerStatus(pod, 'file')?.state?.terminated?.message;
    const logs = containerStatus(pod, 'logs')?.state?.terminated?.message;
    const byDefault = containerStatus(pod, 'default')?.state?.terminated?.message;
    return file && logs && byDefault ? { file, logs, byDefault } : undefined;
  });
  t.deepEqual(json, {
    file: 'finished cleanly\n',
    logs: 'first line\nit broke\n',
    byDefault: 'written to the default path\n',
  });
});

test('lastState.terminated.message is the message of the attempt before, as kubectl get pod -o json shows it', async (t) => {
  t.timeout(150_000);
  // Each attempt writes its own start time into the message, so the previous attempt's is told apart.
  await createPod(
    node.ns,
    'again',
    on({
      restartPolicy: 'Always',
      containers: [
        shell('main', 'echo "attempt started $(date +%s)" > /dev/termination-log; sleep 8; exit 3'),
      ],
    }),
  );
  const seen = await eventually(
    'a restarted container whose lastState has a message',
    async () => {
      const out = await kubectl(['get', 'pod', 'again', '-n', node.ns, '-o', 'json']);
      const status = containerStatus(JSON.parse(out.stdout) as k8s.V1Pod, 'main');
      const last = status?.lastState?.terminated;
      // Running again: lastState is then the attempt before (in a back-off it is the current one).
      return status?.state?.running && (status.restartCount ?? 0) >= 1 && last?.message
        ? { last, status }
        : undefined;
    },
    { timeoutMs: 120_000 },
  );
  t.regex(seen.last.message ?? '', /^attempt started \d+\n$/);
  t.is(seen.last.exitCode, 3);
  t.regex(seen.last.containerID ?? '', /^docker:\/\/[0-9a-f]{64}$/);
  t.not(
    seen.last.containerID,
    seen.status?.containerID,
    'lastState names the attempt before, not the current one',
  );
});

/** A sidecar serving a page on :8081, started (by its startup probe) before the app reads the page. */
const sidecar: k8s.V1Container = shell(
  'proxy',
  'mkdir -p /www && echo from-sidecar > /www/index.html && exec httpd -f -p 8081 -h /www',
  {
    restartPolicy: 'Always',
    startupProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1, failureThreshold: 30 },
  },
);

test('a native sidecar starts before the app and keeps running beside it', async (t) => {
  t.timeout(120_000);
  await createPod(
    node.ns,
    'sidecar',
    on({
      initContainers: [sidecar],
      containers: [shell('app', 'wget -q -O- http://127.0.0.1:8081/ && sleep 3600')],
    }),
  );
  const pod = await podWhere(
    node.ns,
    'sidecar',
    'Ready',
    (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  );
  t.is(pod.status?.phase, 'Running');
  t.like(containerStatus(pod, 'proxy'), { started: true, ready: true, restartCount: 0 });
  t.truthy(containerStatus(pod, 'proxy')?.state?.running, 'the sidecar runs beside the app');
  t.truthy(containerStatus(pod, 'app')?.state?.running);
  const logs = await kubectl(['logs', 'sidecar', '-c', 'app', '-n', node.ns]);
  t.is(logs.stdout, 'from-sidecar\n', 'the app reached the sidecar at its start');
  const sidecarStart = new Date(containerStatus(pod, 'proxy')!.state!.running!.startedAt!).getTime();
  const appStart = new Date(containerStatus(pod, 'app')!.state!.running!.startedAt!).getTime();
  t.true(sidecarStart <= appStart, 'the sidecar started first');
});

test('a Job whose pod has a sidecar completes when its app container ends', async (t) => {
  t.timeout(150_000);
  const batch = kubeConfig().makeApiClient(k8s.BatchV1Api);
  await batch.createNamespacedJob({
    namespace: node.ns,
    body: {
      metadata: { name: 'with-sidecar' },
      spec: {
        backoffLimit: 0,
        template: {
          spec: on({
            restartPolicy: 'Never',
            initContainers: [sidecar],
            containers: [shell('app', 'wget -q -O- http://127.0.0.1:8081/')],
          }),
        },
      },
    },
  });
  const job = await eventually(
    'job complete',
    async () => {
      const j = await batch.readNamespacedJob({ name: 'with-sidecar', namespace: node.ns });
      return j.status?.succeeded === 1 ? j : undefined;
    },
    { timeoutMs: 120_000 },
  );
  t.is(job.status?.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
  const pods = await core().listNamespacedPod({ namespace: node.ns, labelSelector: 'job-name=with-sidecar' });
  const pod = pods.items[0]!;
  t.is(pod.status?.phase, 'Succeeded');
  t.is(containerStatus(pod, 'app')?.state?.terminated?.exitCode, 0);
  t.truthy(
    containerStatus(pod, 'proxy')?.state?.terminated,
    `the sidecar was stopped after the app: ${JSON.stringify(pod.status?.initContainerStatuses)}`,
  );
});

test('activeDeadlineSeconds fails a pod with DeadlineExceeded, also when shortened on a running pod', async (t) => {
  t.timeout(120_000);
  await createPod(
    node.ns,
    'deadline',
    on({ activeDeadlineSeconds: 4, containers: [shell('main', 'sleep 3600')] }),
  );
  await createPod(node.ns, 'shortened', on({ containers: [shell('main', 'sleep 3600')] }));
  await podWhere(node.ns, 'shortened', 'running', (p) => p.status?.phase === 'Running');
  await core().patchNamespacedPod(
    { name: 'shortened', namespace: node.ns, body: { spec: { activeDeadlineSeconds: 2 } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  for (const name of ['deadline', 'shortened']) {
    const failed = await podWhere(node.ns, name, 'phase Failed', (p) => p.status?.phase === 'Failed', 60_000);
    t.is(failed.status?.reason, 'DeadlineExceeded');
    t.is(failed.status?.message, 'Pod was active on the node longer than the specified deadline');
    const events = await podEvents(node.ns, name);
    t.true(events.some((e) => e.reason === 'DeadlineExceeded'));
    await podWhere(
      node.ns,
      name,
      'container stopped',
      (p) => !!containerStatus(p, 'main')?.state?.terminated,
      60_000,
    );
  }
});

test('a force delete (grace 0) removes the pod VM at once', async (t) => {
  t.timeout(60_000);
  const pod = await createPod(
    node.ns,
    'force',
    on({ terminationGracePeriodSeconds: 30, containers: [shell('main', 'trap "" TERM; sleep 3600')] }),
  );
  await podWhere(node.ns, 'force', 'running', (p) => p.status?.phase === 'Running');
  const started = Date.now();
  const deleted = await kubectl(['delete', 'pod', 'force', '-n', node.ns, '--grace-period=0', '--force']);
  t.is(deleted.exitCode, 0, deleted.stderr);
  await eventually(
    'the pod VM is gone',
    async () => {
      const left = (await podVmContainers(node.vk.nodeName)).filter(
        (c) => c.labels['vic-kubelet.io/pod-uid'] === pod.metadata?.uid,
      );
      return left.length === 0 ? true : undefined;
    },
    { timeoutMs: 20_000 },
  );
  t.log(
    `pod VM removed ${Date.now() - started} ms after the force delete (the pod ignores SIGTERM, grace 30 s)`,
  );
  // The wait fails after 20 s, well inside the 30 s grace a plain delete would have waited out; what
  // it saw is checked once more: nothing of the pod's is left on the engine.
  const left = (await podVmContainers(node.vk.nodeName)).filter(
    (c) => c.labels['vic-kubelet.io/pod-uid'] === pod.metadata?.uid,
  );
  t.deepEqual(left, []);
});
