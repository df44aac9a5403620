// Probes through the real cluster: readiness gates a Deployment's availability and a Service's
// EndpointSlice, a failing liveness probe restarts the container with the kubelet's events, a startup
// probe protects a slow starter, and /metrics/probes counts it all.
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, kubectl } from '../support/env.js';
import { containerStatus, core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { kubeletRequest } from '../support/kubelet-client.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-probes');
const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);

/** A busybox web server on :8080 whose /ready answers 404 until the file exists. */
const web = shell('web', 'mkdir -p /www && exec httpd -f -p 8080 -h /www', {
  ports: [{ name: 'http', containerPort: 8080 }],
  readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
});

async function readySlice(namespace: string, service: string): Promise<Map<string, boolean>> {
  const discovery = kubeConfig().makeApiClient(k8s.DiscoveryV1Api);
  const slices = await discovery.listNamespacedEndpointSlice({
    namespace,
    labelSelector: `kubernetes.io/service-name=${service}`,
  });
  const byIp = new Map<string, boolean>();
  for (const s of slices.items)
    for (const e of s.endpoints ?? [])
      for (const ip of e.addresses) byIp.set(ip, e.conditions?.ready === true);
  return byIp;
}

test.serial(
  'readiness: a Deployment is Available only once its probe passes, and the EndpointSlice lists only ready pods',
  async (t) => {
    t.timeout(180_000);
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    await core().createNamespacedService({
      namespace: node.ns,
      body: {
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: node.ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: on({ containers: [web] }) },
        },
      },
    });
    const pods = await eventually(
      'two running web pods with IPs',
      async () => {
        const list = await core().listNamespacedPod({ namespace: node.ns, labelSelector: 'app=web' });
        const running = list.items.filter(
          (p) => containerStatus(p, 'web')?.state?.running && p.status?.podIP,
        );
        return running.length === 2 ? running : undefined;
      },
      { timeoutMs: 90_000 },
    );
    // Running, probed a few times, and still not ready: /ready is a 404.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const unready = await apps.readNamespacedDeployment({ name: 'web', namespace: node.ns });
    t.is(unready.status?.readyReplicas ?? 0, 0);
    t.is(
      unready.status?.conditions?.find((c) => c.type === 'Available')?.status,
      'False',
      'not Available while the probe fails',
    );
    for (const p of pods)
      t.is(
        containerStatus(
          await core().readNamespacedPod({ name: p.metadata!.name!, namespace: node.ns }),
          'web',
        )?.ready,
        false,
      );
    const events = await podEvents(node.ns, pods[0]!.metadata!.name!);
    t.true(
      events.some(
        (e) =>
          e.reason === 'Unhealthy' &&
          e.message === 'Readiness probe failed: HTTP probe failed with statuscode: 404',
      ),
      'the kubelet’s Unhealthy event',
    );

    // One pod turns ready: only its address is ready in the slice.
    const [first, second] = pods as [k8s.V1Pod, k8s.V1Pod];
    const touch = await kubectl(['exec', '-n', node.ns, first.metadata!.name!, '--', 'touch', '/www/ready']);
    t.is(touch.exitCode, 0, touch.stderr);
    await podWhere(
      node.ns,
      first.metadata!.name!,
      'Ready',
      (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    );
    const slice = await eventually('the EndpointSlice shows the first pod ready', async () => {
      const s = await readySlice(node.ns, 'web');
      return s.get(first.status!.podIP!) === true ? s : undefined;
    });
    t.is(slice.get(second.status!.podIP!) ?? false, false, 'the unready pod is not a ready endpoint');
    t.false(
      (await apps.readNamespacedDeployment({ name: 'web', namespace: node.ns })).status?.readyReplicas === 2,
    );

    const touchSecond = await kubectl([
      'exec',
      '-n',
      node.ns,
      second.metadata!.name!,
      '--',
      'touch',
      '/www/ready',
    ]);
    t.is(touchSecond.exitCode, 0, touchSecond.stderr);
    let lastDeployment: k8s.V1DeploymentStatus | undefined;
    await eventually(
      'deployment Available with 2 ready replicas',
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: node.ns });
        lastDeployment = d.status;
        const available = d.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
        return available && d.status?.readyReplicas === 2 ? d : undefined;
      },
      { timeoutMs: 60_000, lastSeen: () => lastDeployment },
    );
    const both = await eventually('both endpoints ready', async () => {
      const s = await readySlice(node.ns, 'web');
      return [...s.values()].filter(Boolean).length === 2 ? s : undefined;
    });
    t.deepEqual([...both.keys()].sort(), pods.map((p) => p.status!.podIP!).sort());

    // Readiness goes both ways: the file goes, the pod leaves the ready endpoints.
    await kubectl(['exec', '-n', node.ns, first.metadata!.name!, '--', 'rm', '/www/ready']);
    const after = await eventually('the first pod is no longer a ready endpoint', async () => {
      const s = await readySlice(node.ns, 'web');
      return s.get(first.status!.podIP!) === false ? s : undefined;
    });
    // Only the first pod left the ready endpoints: the other one is still listed ready.
    const others = pods.map((p) => p.status!.podIP!).filter((ip) => ip !== first.status!.podIP);
    t.deepEqual(
      others.map((ip) => after.get(ip)),
      others.map(() => true),
    );
  },
);

test('liveness: a probe that starts failing restarts the container, raises restartCount, with the kubelet’s events', async (t) => {
  t.timeout(120_000);
  await createPod(
    node.ns,
    'live',
    on({
      containers: [
        shell('main', 'touch /tmp/healthy; sleep 4; rm /tmp/healthy; sleep 3600', {
          // A generous timeout: on a loaded machine an exec can take longer than the default 1 s.
          livenessProbe: {
            exec: { command: ['cat', '/tmp/healthy'] },
            periodSeconds: 1,
            failureThreshold: 2,
            timeoutSeconds: 10,
          },
        }),
      ],
    }),
  );
  const restarted = await podWhere(
    node.ns,
    'live',
    'restartCount 1',
    (p) => (containerStatus(p, 'main')?.restartCount ?? 0) >= 1,
    90_000,
  );
  t.is(containerStatus(restarted, 'main')?.lastState?.terminated?.exitCode, 137);
  const events = await podEvents(node.ns, 'live');
  t.true(
    events.some(
      (e) =>
        e.reason === 'Unhealthy' &&
        e.message === "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory",
    ),
    `Unhealthy event: ${JSON.stringify(events.filter((e) => e.reason === 'Unhealthy').map((e) => e.message))}`,
  );
  t.true(
    events.some(
      (e) =>
        e.reason === 'Killing' && e.message === 'Container main failed liveness probe, will be restarted',
    ),
  );
});

test('startup: a slow starter is not killed by its liveness probe while its startup probe waits', async (t) => {
  t.timeout(120_000);
  await createPod(
    node.ns,
    'slow',
    on({
      containers: [
        shell('main', 'sleep 8; touch /tmp/started; sleep 3600', {
          startupProbe: {
            exec: { command: ['test', '-f', '/tmp/started'] },
            periodSeconds: 1,
            failureThreshold: 30,
            timeoutSeconds: 10,
          },
          // Alone, this would kill the container within 2 s.
          livenessProbe: {
            exec: { command: ['test', '-f', '/tmp/started'] },
            periodSeconds: 1,
            failureThreshold: 1,
            timeoutSeconds: 10,
          },
        }),
      ],
    }),
  );
  const early = await podWhere(
    node.ns,
    'slow',
    'running',
    (p) => !!containerStatus(p, 'main')?.state?.running,
  );
  t.false(containerStatus(early, 'main')?.started, 'not started before its startup probe passed');
  const started = await podWhere(node.ns, 'slow', 'started and ready', (p) => {
    const s = containerStatus(p, 'main');
    return s?.started === true && s.ready === true;
  });
  t.is(containerStatus(started, 'main')?.restartCount, 0);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const later = await core().readNamespacedPod({ name: 'slow', namespace: node.ns });
  t.is(containerStatus(later, 'main')?.restartCount, 0, 'the liveness probe passes once started');
});

test('tcpSocket and grpc probes run against the pod IP; /metrics/probes counts every probe', async (t) => {
  t.timeout(120_000);
  await createPod(
    node.ns,
    'tcp',
    on({
      containers: [
        shell('main', 'exec httpd -f -p 9000 -h /tmp', {
          readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 },
          // Nothing speaks gRPC here: the probe fails, which is what this checks.
          livenessProbe: { grpc: { port: 9001 }, periodSeconds: 1, failureThreshold: 1000 },
        }),
      ],
    }),
  );
  await podWhere(node.ns, 'tcp', 'ready', (p) => containerStatus(p, 'main')?.ready === true);
  const events = await eventually('a failed grpc probe event', async () => {
    const list = await podEvents(node.ns, 'tcp');
    return list.find((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Liveness probe failed: '));
  });
  t.truthy(events);
  // As the API server's kubelet client scrapes it (the API server will not proxy to a loopback node).
  const raw = await kubeletRequest(node.vk.port, 'GET', '/metrics/probes', 'apiserver');
  t.is(raw.status, 200, raw.body);
  t.regex(
    raw.body,
    new RegExp(
      `prober_probe_total\\{probe_type="Readiness",result="successful",container="main",pod="tcp",namespace="${node.ns}",pod_uid="[^"]+"\\} [1-9]`,
    ),
  );
  t.regex(
    raw.body,
    new RegExp(
      `prober_probe_total\\{probe_type="Liveness",result="failed",container="main",pod="tcp",namespace="${node.ns}",pod_uid="[^"]+"\\} [1-9]`,
    ),
  );
});
