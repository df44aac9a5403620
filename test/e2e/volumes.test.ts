// Pod volumes on a virtual node, through the real cluster and Docker engine: configMap, secret,
// downwardAPI and projected files with their modes, an emptyDir shared by init and app containers,
// ConfigMap updates that arrive atomically, and volume fields the node cannot honour refused.
import { createHash } from 'node:crypto';
import test from 'ava';
import { docker, eventually, kubectl } from '../support/env.js';
import { allRunning, core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-volumes');
const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);

async function exec(pod: string, container: string, script: string): Promise<string> {
  const r = await kubectl(['exec', '-n', node.ns, pod, '-c', container, '--', 'sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`exec in ${pod}/${container} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

test('configMap, secret, downwardAPI and projected files are mounted read-only with their modes', async (t) => {
  const ns = node.ns;
  await core().createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'app-config' }, data: { 'app.conf': 'color=blue\n', level: '3' } },
  });
  await core().createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'app-secret' }, stringData: { password: 'pw-volume-test' } },
  });
  await createPod(ns, 'files', {
    ...on({
      containers: [
        shell('main', 'sleep 3600', {
          resources: { limits: { memory: '64Mi' } },
          volumeMounts: [
            { name: 'cfg', mountPath: '/etc/cfg' },
            { name: 'items', mountPath: '/etc/items' },
            { name: 'sec', mountPath: '/etc/sec' },
            { name: 'info', mountPath: '/etc/info' },
            { name: 'all', mountPath: '/etc/all' },
          ],
        }),
      ],
      volumes: [
        { name: 'cfg', configMap: { name: 'app-config', defaultMode: 0o640 } },
        {
          name: 'items',
          configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }] },
        },
        { name: 'sec', secret: { secretName: 'app-secret', defaultMode: 0o400 } },
        {
          name: 'info',
          downwardAPI: {
            items: [
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              {
                path: 'mem',
                resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' },
                mode: 0o444,
              },
            ],
          },
        },
        {
          name: 'all',
          projected: {
            defaultMode: 0o440,
            sources: [
              { configMap: { name: 'app-config', items: [{ key: 'level', path: 'level' }] } },
              {
                secret: {
                  name: 'app-secret',
                  items: [{ key: 'password', path: 'creds/password', mode: 0o400 }],
                },
              },
              { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
    }),
  });
  await allRunning(ns, 'files');
  const files = [
    '/etc/cfg/app.conf',
    '/etc/cfg/level',
    '/etc/items/conf/app.conf',
    '/etc/sec/password',
    '/etc/info/name',
    '/etc/info/mem',
    '/etc/all/level',
    '/etc/all/creds/password',
    '/etc/all/ns',
  ];
  const modes = await exec('files', 'main', files.map((f) => `stat -L -c '%n %a' ${f}`).join('; '));
  t.deepEqual(modes.trim().split('\n'), [
    '/etc/cfg/app.conf 640',
    '/etc/cfg/level 640',
    '/etc/items/conf/app.conf 600',
    '/etc/sec/password 400',
    '/etc/info/name 644',
    '/etc/info/mem 444',
    '/etc/all/level 440',
    '/etc/all/creds/password 400',
    '/etc/all/ns 440',
  ]);
  const contents = await exec(
    'files',
    'main',
    'cat /etc/cfg/app.conf /etc/items/conf/app.conf /etc/sec/password; echo; cat /etc/info/name; echo; cat /etc/info/mem; echo; cat /etc/all/level /etc/all/creds/password /etc/all/ns',
  );
  t.is(contents, `color=blue\ncolor=blue\npw-volume-test\nfiles\n64\n3pw-volume-test${ns}`);
  // Only the listed item is there, and the volume is read-only however the mount was written.
  t.is((await exec('files', 'main', 'ls /etc/items')).trim(), 'conf');
  const write = await kubectl([
    'exec',
    '-n',
    ns,
    'files',
    '-c',
    'main',
    '--',
    'sh',
    '-c',
    'echo x > /etc/cfg/new',
  ]);
  t.not(write.exitCode, 0);
  t.regex(write.stderr, /Read-only file system/);
  // The volume root as a kubelet leaves it.
  t.is((await exec('files', 'main', "stat -c '%a' /etc/cfg")).trim(), '777');
  // The kubelet's layout: names are links into ..data.
  t.is((await exec('files', 'main', 'readlink /etc/cfg/level')).trim(), '..data/level');
});

test('an emptyDir is shared by an init container and two app containers; a Memory one is a tmpfs', async (t) => {
  const ns = node.ns;
  const mounts = [
    { name: 'shared', mountPath: '/data' },
    { name: 'mem', mountPath: '/mem' },
  ];
  await createPod(ns, 'shared', {
    ...on({
      initContainers: [
        shell('init', 'echo from-init > /data/init; echo m > /mem/init', { volumeMounts: mounts }),
      ],
      containers: [
        shell('one', 'echo from-one > /data/one; sleep 3600', { volumeMounts: mounts }),
        shell('two', 'echo from-two > /data/two; sleep 3600', { volumeMounts: mounts }),
      ],
      volumes: [
        { name: 'shared', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      ],
    }),
  });
  await allRunning(ns, 'shared');
  const seen = await eventually('both app containers wrote', async () => {
    const out = await exec('shared', 'two', 'cat /data/init /data/one /data/two 2>/dev/null || true');
    return out.split('\n').filter(Boolean).length === 3 ? out : undefined;
  });
  t.is(seen, 'from-init\nfrom-one\nfrom-two\n');
  t.is((await exec('shared', 'one', 'cat /data/two /mem/init')).trim(), 'from-two\nm');
  t.is((await exec('shared', 'one', "stat -c '%a' /data")).trim(), '777');
  const mem = await exec('shared', 'two', "grep ' /mem ' /proc/mounts");
  t.regex(mem, /^tmpfs \/mem tmpfs .*size=16384k/);
});

test('fsGroup owns the volume files and the emptyDir root, with group read and setgid', async (t) => {
  const ns = node.ns;
  await core().createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'grouped' }, data: { key: 'v' } },
  });
  await createPod(ns, 'grouped', {
    ...on({
      securityContext: { fsGroup: 2000 },
      containers: [
        shell('main', 'sleep 3600', {
          volumeMounts: [
            { name: 'cfg', mountPath: '/cfg' },
            { name: 'scratch', mountPath: '/scratch' },
          ],
        }),
      ],
      volumes: [
        { name: 'cfg', configMap: { name: 'grouped', defaultMode: 0o400 } },
        { name: 'scratch', emptyDir: {} },
      ],
    }),
  });
  await allRunning(ns, 'grouped');
  const out = await exec('grouped', 'main', "stat -L -c '%n %g %a' /cfg/key /scratch");
  t.deepEqual(out.trim().split('\n'), ['/cfg/key 2000 440', '/scratch 2000 2777']);
});

test('a ConfigMap update reaches the mounted file atomically, within the sync period', async (t) => {
  const ns = node.ns;
  // Large values: a reader of a half-written file would see a checksum of neither.
  const before = 'A'.repeat(256 * 1024);
  const after = 'B'.repeat(256 * 1024);
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  await core().createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'live' }, data: { big: before } },
  });
  await createPod(ns, 'reader', {
    ...on({
      containers: [
        shell(
          'main',
          'while true; do md5sum < /cfg/big | cut -c1-32 >> /tmp/seen 2>/dev/null || echo read-error >> /tmp/seen; usleep 2000; done',
          { volumeMounts: [{ name: 'live', mountPath: '/cfg' }] },
        ),
      ],
      volumes: [{ name: 'live', configMap: { name: 'live' } }],
    }),
  });
  await allRunning(ns, 'reader');
  await core().replaceNamespacedConfigMap({
    name: 'live',
    namespace: ns,
    body: { metadata: { name: 'live' }, data: { big: after } },
  });
  const updatedAt = Date.now();
  await eventually(
    'the new content in the mounted file',
    async () =>
      (await exec('reader', 'main', 'md5sum < /cfg/big')).startsWith(md5(after)) ? true : undefined,
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
  t.log(`update visible after ${Math.round((Date.now() - updatedAt) / 1000)} s`);
  const seen = (await exec('reader', 'main', 'sort /tmp/seen | uniq -c')).trim().split('\n');
  const kinds = new Map(
    seen.map((l) => l.trim().split(/\s+/)).map(([count, value]) => [value, Number(count)]),
  );
  t.true((kinds.get(md5(before)) ?? 0) > 0, 'the old content was read before the update');
  t.true((kinds.get(md5(after)) ?? 0) > 0, 'the new content was read after it');
  const other = [...kinds.keys()].filter((k) => k !== md5(before) && k !== md5(after));
  t.deepEqual(other, [], `every read saw the whole old or the whole new file: ${seen.join(', ')}`);
});

test('volume fields a pod VM cannot honour fail the pod at admission, naming each field', async (t) => {
  const ns = node.ns;
  // Bound by name: the scheduler would hold a pod whose claim does not exist.
  await createPod(ns, 'refused', {
    nodeName: node.vk.nodeName,
    ...on({
      containers: [
        shell('main', 'sleep 3600', {
          volumeMounts: [
            { name: 'scratch', mountPath: '/a', subPath: 'x' },
            { name: 'scratch', mountPath: '/b', mountPropagation: 'HostToContainer' },
          ],
        }),
      ],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        {
          name: 'claim',
          ephemeral: {
            volumeClaimTemplate: {
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
            },
          },
        },
      ],
    }),
  });
  const pod = await podWhere(ns, 'refused', 'Failed', (p) => p.status?.phase === 'Failed');
  t.is(pod.status?.reason, 'UnsupportedPodSpec');
  for (const field of [
    'spec.volumes[claim].ephemeral',
    'spec.containers[main].volumeMounts[scratch].subPath',
    'spec.containers[main].volumeMounts[scratch].mountPropagation',
  ]) {
    t.true(pod.status?.message?.includes(field), `${field} in "${pod.status?.message}"`);
  }
  t.true((await podEvents(ns, 'refused')).some((e) => e.reason === 'UnsupportedPodSpec'));
  const volumes = await docker().listVolumes({
    filters: { label: [`vic-kubelet.io/pod-uid=${pod.metadata?.uid}`] },
  });
  t.deepEqual(volumes.Volumes ?? [], [], 'nothing created for a refused pod');
});

test('a missing ConfigMap keeps the pod ContainerCreating with FailedMount; it starts once created', async (t) => {
  const ns = node.ns;
  await createPod(ns, 'waits', {
    ...on({
      containers: [
        shell('main', 'cat /cfg/key; sleep 3600', { volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }),
      ],
      volumes: [{ name: 'cfg', configMap: { name: 'late' } }],
    }),
  });
  await eventually('a FailedMount event', async () =>
    (await podEvents(ns, 'waits')).find(
      (e) =>
        e.reason === 'FailedMount' &&
        e.message === 'MountVolume.SetUp failed for volume "cfg" : configmap "late" not found',
    ),
  );
  const waiting = await core().readNamespacedPod({ name: 'waits', namespace: ns });
  t.is(waiting.status?.phase, 'Pending');
  t.is(waiting.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
  await core().createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'late' }, data: { key: 'now' } },
  });
  await allRunning(ns, 'waits');
  t.is((await exec('waits', 'main', 'cat /cfg/key')).trim(), 'now');
});

test('deleting the pod removes its volumes from the VCH', async (t) => {
  const ns = node.ns;
  const pod = await createPod(ns, 'gone', {
    ...on({
      containers: [shell('main', 'sleep 3600', { volumeMounts: [{ name: 'scratch', mountPath: '/s' }] })],
      volumes: [{ name: 'scratch', emptyDir: {} }],
    }),
  });
  await allRunning(ns, 'gone');
  const byPod = { filters: { label: [`vic-kubelet.io/pod-uid=${pod.metadata?.uid}`] } };
  t.true(((await docker().listVolumes(byPod)).Volumes ?? []).length > 0);
  await core().deleteNamespacedPod({ name: 'gone', namespace: ns });
  await eventually(
    'the pod volumes removed',
    async () => (((await docker().listVolumes(byPod)).Volumes ?? []).length === 0 ? true : undefined),
    { timeoutMs: 60_000 },
  );
  t.deepEqual((await docker().listVolumes(byPod)).Volumes ?? [], [], 'no volume of the pod is left');
});
