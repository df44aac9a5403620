import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import test from 'ava';
import type { ConfigSources } from './config-sources.js';
import { containerEnv, expand, type EnvContext } from './env.js';
import type { ServiceSources } from './service-env.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function sources(configMaps: V1ConfigMap[], secrets: V1Secret[]): ConfigSources {
  return {
    configMap: async (ns, name) =>
      configMaps.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    secret: async (ns, name) =>
      secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
  };
}

function services(list: V1Service[], kubernetesAddress?: { host: string; port: number }): ServiceSources {
  return {
    list: async (ns) => list.filter((s) => s.metadata?.namespace === ns),
    ...(kubernetesAddress ? { kubernetesAddress } : {}),
  };
}

const pod: V1Pod = {
  metadata: {
    name: 'web',
    namespace: 'team',
    uid: 'uid-1',
    labels: { app: 'web' },
    annotations: { owner: 'ops' },
  },
  spec: {
    nodeName: 'vic-node',
    serviceAccountName: 'robot',
    enableServiceLinks: false,
    containers: [{ name: 'app', resources: { limits: { cpu: '500m', memory: '64Mi' } } }, { name: 'side' }],
  },
};

const kubernetesService: V1Service = {
  metadata: { name: 'kubernetes', namespace: 'default' },
  spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
};

function ctx(overrides: Partial<EnvContext> = {}): EnvContext {
  return {
    pod,
    podIPs: ['172.17.0.5'],
    hostIPs: ['10.0.0.2'],
    nodeAllocatable: { milliCpu: 4000, memoryBytes: 8 * 2 ** 30 },
    sources: sources(
      [{ metadata: { name: 'cfg', namespace: 'team' }, data: { MODE: 'fast', LEVEL: '3' } }],
      [
        {
          metadata: { name: 'creds', namespace: 'team' },
          data: { PASSWORD: b64('s3cret'), USER: b64('admin') },
        },
      ],
    ),
    services: services([kubernetesService]),
    ...overrides,
  };
}

const asRecord = (env: Array<{ name: string; value: string }>) =>
  Object.fromEntries(env.map((e) => [e.name, e.value]));

test('$(VAR) expansion: defined names replaced, $$ escapes, undefined and unclosed stay', (t) => {
  const vars = new Map([['A', 'x']]);
  const lookup = (n: string) => vars.get(n);
  t.is(expand('$(A)-$(B)-$$(A)-$A-$(A', lookup), 'x-$(B)-$(A)-$A-$(A');
});

test('envFrom with prefixes, then env in order with expansion over earlier variables', async (t) => {
  const container: V1Container = {
    name: 'app',
    envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
    env: [
      { name: 'GREETING', value: 'mode=$(CFG_MODE) user=$(USER) missing=$(NOPE)' },
      { name: 'CFG_MODE', value: 'overridden' },
      { name: 'EMPTY', value: '' },
    ],
  };
  const env = asRecord(await containerEnv(container, ctx()));
  t.is(env.CFG_MODE, 'overridden');
  t.is(env.CFG_LEVEL, '3');
  t.is(env.PASSWORD, 's3cret');
  t.is(env.GREETING, 'mode=fast user=admin missing=$(NOPE)');
  t.is(env.EMPTY, '');
});

test('every fieldRef the kubelet supports in env', async (t) => {
  const paths = [
    'metadata.name',
    'metadata.namespace',
    'metadata.uid',
    "metadata.labels['app']",
    "metadata.annotations['owner']",
    'spec.nodeName',
    'spec.serviceAccountName',
    'status.hostIP',
    'status.hostIPs',
    'status.podIP',
    'status.podIPs',
  ];
  const container: V1Container = {
    name: 'app',
    env: paths.map((p, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath: p } } })),
  };
  const env = asRecord(
    await containerEnv(container, ctx({ podIPs: ['172.17.0.5', 'fd00::5'], hostIPs: ['10.0.0.2'] })),
  );
  t.deepEqual(
    paths.map((_, i) => env[`F${i}`]),
    [
      'web',
      'team',
      'uid-1',
      'web',
      'ops',
      'vic-node',
      'robot',
      '10.0.0.2',
      '10.0.0.2',
      '172.17.0.5',
      '172.17.0.5,fd00::5',
    ],
  );
});

test('resourceFieldRef: limits and requests with divisors; an unset limit is the node allocatable', async (t) => {
  const ref = (resource: string, divisor?: string, containerName?: string) => ({
    resourceFieldRef: {
      resource,
      ...(divisor ? { divisor } : {}),
      ...(containerName ? { containerName } : {}),
    },
  });
  const container: V1Container = {
    name: 'app',
    resources: { limits: { cpu: '500m', memory: '64Mi' } },
    env: [
      { name: 'CPU', valueFrom: ref('limits.cpu', '0') },
      { name: 'CPU_M', valueFrom: ref('limits.cpu', '1m') },
      { name: 'MEM', valueFrom: ref('limits.memory') },
      { name: 'MEM_MI', valueFrom: ref('limits.memory', '1Mi') },
      { name: 'SIDE_CPU', valueFrom: ref('limits.cpu', '1m', 'side') },
      { name: 'SIDE_MEM', valueFrom: ref('limits.memory', '1Gi', 'side') },
      { name: 'REQ_CPU', valueFrom: ref('requests.cpu', '1m') },
    ],
  };
  const env = asRecord(await containerEnv(container, ctx()));
  t.is(env.CPU, '1'); // 500m rounded up to whole cores
  t.is(env.CPU_M, '500');
  t.is(env.MEM, String(64 * 2 ** 20));
  t.is(env.MEM_MI, '64');
  t.is(env.SIDE_CPU, '4000');
  t.is(env.SIDE_MEM, '8');
  t.is(env.REQ_CPU, '0');
});

test('configMapKeyRef and secretKeyRef, with optional references that are left unset', async (t) => {
  const container: V1Container = {
    name: 'app',
    env: [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
      { name: 'NO_CM', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
      { name: 'NO_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'absent', optional: true } } },
    ],
    envFrom: [{ configMapRef: { name: 'absent', optional: true } }],
  };
  const env = asRecord(await containerEnv(container, ctx()));
  t.is(env.MODE, 'fast');
  t.is(env.PW, 's3cret');
  t.false('NO_CM' in env);
  t.false('NO_KEY' in env);
});

test('a missing required reference fails with the kubelet message', async (t) => {
  const cases: Array<[V1Container, string]> = [
    [
      { name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k' } } }] },
      'configmap "absent" not found',
    ],
    [
      { name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nokey' } } }] },
      "couldn't find key nokey in ConfigMap team/cfg",
    ],
    [
      { name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nokey' } } }] },
      "couldn't find key nokey in Secret team/creds",
    ],
    [{ name: 'a', envFrom: [{ secretRef: { name: 'absent' } }] }, 'secret "absent" not found'],
  ];
  for (const [container, message] of cases) {
    const err = await t.throwsAsync(containerEnv(container, ctx()));
    t.is(err?.message, message);
  }
});

test('service links: the kubernetes service always, namespace services with enableServiceLinks', async (t) => {
  const web: V1Service = {
    metadata: { name: 'web-api', namespace: 'team' },
    spec: {
      clusterIP: '10.96.0.20',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
      ],
    },
  };
  const headless: V1Service = {
    metadata: { name: 'db', namespace: 'team' },
    spec: { clusterIP: 'None', ports: [{ port: 5432 }] },
  };
  const all = services([kubernetesService, web, headless]);
  const off = asRecord(await containerEnv({ name: 'app' }, ctx({ services: all })));
  t.is(off.KUBERNETES_SERVICE_HOST, '10.96.0.1');
  t.is(off.KUBERNETES_SERVICE_PORT, '443');
  t.false('WEB_API_SERVICE_HOST' in off);

  const linked = { ...pod, spec: { ...pod.spec!, enableServiceLinks: true } };
  const on = asRecord(await containerEnv({ name: 'app' }, ctx({ pod: linked, services: all })));
  t.like(on, {
    WEB_API_SERVICE_HOST: '10.96.0.20',
    WEB_API_SERVICE_PORT: '80',
    WEB_API_SERVICE_PORT_HTTP: '80',
    WEB_API_PORT: 'tcp://10.96.0.20:80',
    WEB_API_PORT_80_TCP: 'tcp://10.96.0.20:80',
    WEB_API_PORT_80_TCP_PROTO: 'tcp',
    WEB_API_PORT_80_TCP_PORT: '80',
    WEB_API_PORT_80_TCP_ADDR: '10.96.0.20',
    WEB_API_PORT_53_UDP: 'udp://10.96.0.20:53',
  });
  t.false('DB_SERVICE_HOST' in on);
});

test('the kubernetes service points at the address pod VMs reach when one is configured', async (t) => {
  const container: V1Container = {
    name: 'app',
    env: [
      { name: 'API', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' },
      { name: 'KUBERNETES_PORT', value: 'mine' },
    ],
  };
  const env = asRecord(
    await containerEnv(
      container,
      ctx({ services: services([kubernetesService], { host: '172.17.0.1', port: 6443 }) }),
    ),
  );
  t.is(env.KUBERNETES_SERVICE_HOST, '172.17.0.1');
  t.is(env.KUBERNETES_SERVICE_PORT, '6443');
  t.is(env.KUBERNETES_SERVICE_PORT_HTTPS, '6443');
  t.is(env.KUBERNETES_PORT_6443_TCP_ADDR, '172.17.0.1');
  t.is(env.API, 'https://172.17.0.1:6443');
  // A variable the container sets wins over the service variable of the same name.
  t.is(env.KUBERNETES_PORT, 'mine');
});
