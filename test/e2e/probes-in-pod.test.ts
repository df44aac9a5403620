// Network probes run from inside the pod VM, as on a remote VCH whose pod network vic-kubelet cannot
// reach, forced here by --probe-network in-pod: an httpGet readiness probe makes a pod Ready, a
// tcpSocket liveness probe on a closed port restarts its container (the events carry busybox's own
// words, so the probe did run inside the pod), and a container without wget is never Ready and says why.
import test from 'ava';
import { eventually, testEnv } from '../support/env.js';
import { containerStatus, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-probes-in-pod', { args: ['--probe-network', 'in-pod'] });
const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);

test('in-pod: an httpGet readiness probe run inside the pod VM makes the pod Ready', async (t) => {
  t.timeout(150_000);
  await createPod(
    node.ns,
    'web',
    on({
      containers: [
        shell('web', 'mkdir -p /www && touch /www/ready && exec httpd -f -p 8080 -h /www', {
          readinessProbe: {
            httpGet: { path: '/ready', port: 8080, httpHeaders: [{ name: 'X-Probe', value: 'in-pod' }] },
            periodSeconds: 1,
            timeoutSeconds: 10,
          },
        }),
      ],
    }),
  );
  const ready = await podWhere(
    node.ns,
    'web',
    'container web ready',
    (p) => containerStatus(p, 'web')?.ready === true,
    120_000,
  );
  t.true(ready.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
});

test('in-pod: a tcpSocket liveness probe on a closed port restarts the container, with nc’s words in the event', async (t) => {
  t.timeout(150_000);
  await createPod(
    node.ns,
    'closed',
    on({
      containers: [
        shell('main', 'sleep 3600', {
          livenessProbe: {
            tcpSocket: { port: 9999 },
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
    'closed',
    'restartCount 1',
    (p) => (containerStatus(p, 'main')?.restartCount ?? 0) >= 1,
    120_000,
  );
  const ip = restarted.status?.podIP ?? '';
  const events = await podEvents(node.ns, 'closed');
  const unhealthy = events.filter((e) => e.reason === 'Unhealthy').map((e) => e.message);
  // busybox nc's refusal, not Node's "connect: connection refused": the probe ran inside the pod VM.
  t.true(
    unhealthy.includes(
      `Liveness probe failed: dial tcp ${ip}:9999: can't connect to remote host (${ip}): Connection refused`,
    ),
    JSON.stringify(unhealthy),
  );
  t.true(
    events.some(
      (e) =>
        e.reason === 'Killing' && e.message === 'Container main failed liveness probe, will be restarted',
    ),
  );
});

test('in-pod: a container without wget is never Ready, and the Unhealthy event says what is missing', async (t) => {
  t.timeout(150_000);
  await createPod(
    node.ns,
    'bare',
    on({
      containers: [
        {
          name: 'pause',
          image: testEnv.pauseImage,
          imagePullPolicy: 'IfNotPresent',
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, timeoutSeconds: 10 },
        },
      ],
    }),
  );
  const messages = await eventually(
    'an Unhealthy event of pod bare',
    async () => {
      const unhealthy = (await podEvents(node.ns, 'bare')).filter((e) => e.reason === 'Unhealthy');
      return unhealthy.length > 0 ? unhealthy.map((e) => e.message) : undefined;
    },
    { timeoutMs: 120_000 },
  );
  t.regex(
    messages[0] ?? '',
    /^Readiness probe failed: httpGet probe cannot run inside the pod VM: the container has no wget \(exit code 12[67]\)$/,
  );
  const pod = await podWhere(
    node.ns,
    'bare',
    'pause running',
    (p) => !!containerStatus(p, 'pause')?.state?.running,
  );
  t.false(containerStatus(pod, 'pause')?.ready);
});
