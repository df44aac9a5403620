import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import type { ConfigSources } from '../config-sources.js';
import { volumeFiles, type ContentContext } from './content.js';
import type { TokenSource } from './tokens.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'team', uid: 'u1', labels: { b: '2', a: '1' } },
  spec: { containers: [{ name: 'app', resources: { limits: { memory: '64Mi' } } }] },
};

const sources: ConfigSources = {
  configMap: async (_ns, name): Promise<V1ConfigMap | undefined> =>
    name === 'cfg'
      ? { data: { 'app.conf': 'x=1\n' }, binaryData: { 'logo.bin': b64('\u0001\u0002') } }
      : name === 'kube-root-ca.crt'
        ? { data: { 'ca.crt': 'CA' } }
        : undefined,
  secret: async (_ns, name) =>
    name === 'creds' ? { data: { password: b64('s3cret'), user: b64('admin') } } : undefined,
};

const requested: unknown[] = [];
const tokens: TokenSource = {
  token: async (_pod, spec) => {
    requested.push(spec);
    return 'TOKEN';
  },
  renewAt: () => undefined,
  forget: () => undefined,
};

const ctx = (extra: Partial<ContentContext> = {}): ContentContext => ({
  pod,
  hostIPs: ['10.0.0.2'],
  nodeAllocatable: { milliCpu: 2000, memoryBytes: 2 ** 30 },
  sources,
  tokens,
  ...extra,
});

const shape = (files: Awaited<ReturnType<typeof volumeFiles>>) =>
  Object.fromEntries(files.map((f) => [f.path, `${f.mode.toString(8)} ${f.data.toString('utf8')}`]));

test('configMap: every key (data and binaryData) with defaultMode, or the listed items with their modes', async (t) => {
  t.deepEqual(
    shape(await volumeFiles({ name: 'v', configMap: { name: 'cfg', defaultMode: 0o640 } }, ctx())),
    {
      'app.conf': '640 x=1\n',
      'logo.bin': '640 \u0001\u0002',
    },
  );
  t.deepEqual(
    shape(
      await volumeFiles(
        {
          name: 'v',
          configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'conf/app', mode: 0o600 }] },
        },
        ctx(),
      ),
    ),
    { 'conf/app': '600 x=1\n' },
  );
});

test('secret: decoded values; a missing secret or key fails unless optional', async (t) => {
  t.deepEqual(
    shape(await volumeFiles({ name: 'v', secret: { secretName: 'creds', defaultMode: 0o400 } }, ctx())),
    {
      password: '400 s3cret',
      user: '400 admin',
    },
  );
  await t.throwsAsync(volumeFiles({ name: 'v', secret: { secretName: 'absent' } }, ctx()), {
    message: 'secret "absent" not found',
  });
  t.deepEqual(await volumeFiles({ name: 'v', secret: { secretName: 'absent', optional: true } }, ctx()), []);
  await t.throwsAsync(
    volumeFiles({ name: 'v', secret: { secretName: 'creds', items: [{ key: 'nope', path: 'n' }] } }, ctx()),
    { message: 'secret references non-existent secret key: nope' },
  );
});

test('downwardAPI: labels as sorted k="v" lines, names, resources with divisors', async (t) => {
  const files = await volumeFiles(
    {
      name: 'v',
      downwardAPI: {
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'name', fieldRef: { fieldPath: 'metadata.name' }, mode: 0o600 },
          {
            path: 'mem',
            resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' },
          },
        ],
      },
    },
    ctx(),
  );
  t.deepEqual(shape(files), { labels: '644 a="1"\nb="2"', name: '600 web', mem: '644 64' });
});

test('projected kube-api-access: token with audience and expiry, ca.crt and namespace', async (t) => {
  requested.length = 0;
  const files = await volumeFiles(
    {
      name: 'kube-api-access-x',
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607, audience: 'vault' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
    ctx({ fsGroup: 2000 }),
  );
  t.deepEqual(requested, [{ audience: 'vault', expirationSeconds: 3607 }]);
  // fsGroup adds group read, as the kubelet's ownership pass does for read-only volumes.
  t.deepEqual(shape(files), { token: '644 TOKEN', 'ca.crt': '644 CA', namespace: '644 team' });
});
