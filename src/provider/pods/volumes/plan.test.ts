import type { V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { containerMounts, podVolumeSpecs, unsupportedVolumeFields } from './plan.js';

const base = (spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod => ({
  metadata: { name: 'p', namespace: 'n', uid: 'u' },
  spec: { containers: [{ name: 'app' }], ...spec },
});

test('supported volumes pass; everything else is named with its field', (t) => {
  const pod = base({
    volumes: [
      { name: 'scratch', emptyDir: {} },
      { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'cfg', configMap: { name: 'c' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'x' } },
      { name: 'eph', ephemeral: { volumeClaimTemplate: { spec: {} } } },
      { name: 'ext', nfs: { server: 's', path: '/' } },
      { name: 'big', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'huge', emptyDir: { medium: 'HugePages' } },
      {
        name: 'bundle',
        projected: {
          sources: [{ clusterTrustBundle: { path: 'ca' } }, { serviceAccountToken: { path: 't' } }],
        },
      },
      { name: 'unknown' },
    ],
    containers: [
      {
        name: 'app',
        volumeMounts: [
          { name: 'scratch', mountPath: '/a', subPath: 'x' },
          { name: 'scratch', mountPath: '/b', subPathExpr: '$(POD)' },
          { name: 'scratch', mountPath: '/c', mountPropagation: 'HostToContainer' },
          { name: 'scratch', mountPath: '/d', mountPropagation: 'None' },
        ],
      },
    ],
  });
  t.deepEqual(unsupportedVolumeFields(pod), [
    'spec.volumes[eph].ephemeral',
    'spec.volumes[ext].nfs',
    'spec.volumes[big].emptyDir.sizeLimit',
    'spec.volumes[huge].emptyDir.medium=HugePages',
    'spec.volumes[bundle].projected.sources[0].clusterTrustBundle',
    'spec.volumes[unknown] (a volume type this node does not know)',
    'spec.containers[app].volumeMounts[scratch].subPath',
    'spec.containers[app].volumeMounts[scratch].subPathExpr',
    'spec.containers[app].volumeMounts[scratch].mountPropagation',
  ]);
});

test('a memory emptyDir is a sized tmpfs; content volumes are always mounted read-only', (t) => {
  const pod = base({
    volumes: [
      { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'c' } },
    ],
  });
  t.deepEqual(podVolumeSpecs(pod), [
    { name: 'shm', medium: 'memory', sizeBytes: 64 * 2 ** 20 },
    { name: 'scratch' },
    { name: 'cfg' },
  ]);
  const mounts = containerMounts(pod, {
    name: 'app',
    volumeMounts: [
      { name: 'scratch', mountPath: '/s' },
      { name: 'scratch', mountPath: '/ro', readOnly: true },
      { name: 'cfg', mountPath: '/etc/cfg' },
    ],
  });
  t.deepEqual(mounts, [
    { source: 'scratch', containerPath: '/s' },
    { source: 'scratch', containerPath: '/ro', readOnly: true },
    { source: 'cfg', containerPath: '/etc/cfg', readOnly: true },
  ]);
});

test('a claim is its store volume, mounted read-only when the pod volume says so; unresolved it fails', (t) => {
  const pod = base({
    volumes: [
      { name: 'data', persistentVolumeClaim: { claimName: 'www' } },
      { name: 'ref', persistentVolumeClaim: { claimName: 'ref', readOnly: true } },
    ],
  });
  const claims = new Map([
    ['data', 'pvc-1'],
    ['ref', 'pvc-2'],
  ]);
  t.deepEqual(podVolumeSpecs(pod, claims), [
    { name: 'data', source: 'pvc-1' },
    { name: 'ref', source: 'pvc-2' },
  ]);
  t.deepEqual(
    containerMounts(pod, {
      name: 'app',
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'ref', mountPath: '/ref' },
      ],
    }),
    [
      { source: 'data', containerPath: '/data' },
      { source: 'ref', containerPath: '/ref', readOnly: true },
    ],
  );
  const err = t.throws(() => podVolumeSpecs(pod, new Map([['data', 'pvc-1']])));
  t.regex(err.message, /claim ref is not resolved/);
});
