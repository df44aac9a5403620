// A container's environment and resolver on a virtual node, as a kubelet makes them, through the real
// cluster and Docker engine: every env source printed by the pod itself, a missing reference that
// holds the container in CreateContainerConfigError until it appears, and resolv.conf per dnsPolicy.
import test from 'ava';
import { eventually, kubectl } from '../support/env.js';
import { allRunning, containerStatus, core, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const podAddress = process.env.VK_APISERVER_POD_ADDRESS ?? '';
const node = virtualNodeForFile(test, 'vk-env', {
  args: [
    '--kubernetes-service-address',
    podAddress,
    '--cluster-dns',
    '10.96.0.10',
    '--cluster-domain',
    'cluster.local',
  ],
});
const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

async function logsOf(pod: string, container = 'main'): Promise<string> {
  return eventually(`logs of ${pod}`, async () => {
    const r = await kubectl(['logs', '-n', node.ns, pod, '-c', container]);
    return r.exitCode === 0 && r.stdout.includes('END') ? r.stdout : undefined;
  });
}

test('a pod prints its env from every source the kubelet resolves', async (t) => {
  const ns = node.ns;
  await core().createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'settings' }, data: { MODE: 'fast', LEVEL: '3' } },
  });
  await core().createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'creds' }, stringData: { USER: 'admin', TOKEN: 'env-secret-value' } },
  });
  await core().createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: 'web-api' },
      spec: { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], selector: { app: 'none' } },
    },
  });
  const service = await eventually('the service has a cluster IP', async () => {
    const s = await core().readNamespacedService({ name: 'web-api', namespace: ns });
    return s.spec?.clusterIP ? s : undefined;
  });
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'printer', labels: { app: 'printer' }, annotations: { owner: 'ops' } },
      spec: on({
        containers: [
          shell('main', 'env | sort; echo END; sleep 3600', {
            resources: { limits: { cpu: '250m' } },
            envFrom: [
              { configMapRef: { name: 'settings' }, prefix: 'CFG_' },
              { secretRef: { name: 'creds' } },
            ],
            env: [
              { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
              { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'creds', key: 'USER' } } },
              {
                name: 'OPTIONAL_MISSING',
                valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } },
              },
              {
                name: 'EXPANDED',
                value: 'mode=$(CFG_MODE) user=$(FROM_SECRET) svc=$(WEB_API_SERVICE_PORT) $$(CFG_MODE)',
              },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
              { name: 'POD_LABEL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
              {
                name: 'POD_ANNOTATION',
                valueFrom: { fieldRef: { fieldPath: "metadata.annotations['owner']" } },
              },
              { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'SA_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
              { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
              {
                name: 'CPU_LIMIT_M',
                valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } },
              },
              { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
              {
                name: 'MEM_LIMIT_MI',
                valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
              },
            ],
          }),
        ],
      }),
    },
  });
  const pod = await allRunning(ns, 'printer');
  const env = parseEnv(await logsOf('printer'));
  const nodeObject = await core().readNode({ name: node.vk.nodeName });
  const allocatableMi = Math.ceil(quantityBytes(nodeObject.status?.allocatable?.memory ?? '0') / 2 ** 20);
  t.like(env, {
    CFG_MODE: 'fast',
    CFG_LEVEL: '3',
    USER: 'admin',
    TOKEN: 'env-secret-value',
    FROM_CM: 'fast',
    FROM_SECRET: 'admin',
    EXPANDED: 'mode=fast user=admin svc=8080 $(CFG_MODE)',
    POD_NAME: 'printer',
    POD_NAMESPACE: ns,
    POD_UID: pod.metadata?.uid,
    POD_LABEL: 'printer',
    POD_ANNOTATION: 'ops',
    NODE_NAME: node.vk.nodeName,
    SA_NAME: 'default',
    POD_IP: pod.status?.podIP,
    POD_IPS: pod.status?.podIP,
    HOST_IP: pod.status?.hostIP,
    CPU_LIMIT_M: '250',
    CPU_LIMIT: '1',
    MEM_LIMIT_MI: String(allocatableMi),
    KUBERNETES_SERVICE_HOST: podAddress.split(':')[0],
    KUBERNETES_SERVICE_PORT: podAddress.split(':')[1],
    KUBERNETES_SERVICE_PORT_HTTPS: podAddress.split(':')[1],
    WEB_API_SERVICE_HOST: service.spec?.clusterIP,
    WEB_API_SERVICE_PORT: '8080',
    WEB_API_SERVICE_PORT_HTTP: '8080',
    WEB_API_PORT: `tcp://${service.spec?.clusterIP}:8080`,
    WEB_API_PORT_8080_TCP_ADDR: service.spec?.clusterIP,
  });
  t.false('OPTIONAL_MISSING' in env);
  t.truthy(pod.status?.podIP);
});

test('a missing required reference waits in CreateContainerConfigError, then starts by itself', async (t) => {
  const ns = node.ns;
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'needs-config' },
      spec: on({
        containers: [
          shell('main', 'echo value=$VALUE; echo END; sleep 3600', {
            env: [{ name: 'VALUE', valueFrom: { configMapKeyRef: { name: 'late', key: 'value' } } }],
          }),
        ],
      }),
    },
  });
  const waiting = await podWhere(
    ns,
    'needs-config',
    'CreateContainerConfigError',
    (p) => containerStatus(p, 'main')?.state?.waiting?.reason === 'CreateContainerConfigError',
  );
  t.is(containerStatus(waiting, 'main')?.state?.waiting?.message, 'configmap "late" not found');
  t.true(
    (await podEvents(ns, 'needs-config')).some(
      (e) =>
        e.type === 'Warning' && e.reason === 'Failed' && e.message === 'Error: configmap "late" not found',
    ),
  );
  await core().createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'late' }, data: { value: 'arrived' } },
  });
  await allRunning(ns, 'needs-config');
  t.regex(await logsOf('needs-config'), /^value=arrived$/m);
});

test('resolv.conf follows dnsPolicy: ClusterFirst with the cluster DNS, None with dnsConfig', async (t) => {
  const ns = node.ns;
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'dns-cluster' },
      spec: on({ containers: [shell('main', 'cat /etc/resolv.conf; echo END; sleep 3600')] }),
    },
  });
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'dns-none' },
      spec: on({
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['192.0.2.53'],
          searches: ['example.test'],
          options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
        },
        containers: [shell('main', 'cat /etc/resolv.conf; echo END; sleep 3600')],
      }),
    },
  });
  const lines = (text: string) =>
    text
      .split('\n')
      .filter((l) => /^(nameserver|search|options)\b/.test(l))
      .sort();
  t.deepEqual(lines(await logsOf('dns-cluster')), [
    'nameserver 10.96.0.10',
    'options ndots:5',
    `search ${ns}.svc.cluster.local svc.cluster.local cluster.local`,
  ]);
  t.deepEqual(lines(await logsOf('dns-none')), [
    'nameserver 192.0.2.53',
    'options ndots:2 edns0',
    'search example.test',
  ]);
});

function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(q);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[m?.[2] ?? ''] ?? 1;
  return Number(m?.[1] ?? 0) * unit;
}
