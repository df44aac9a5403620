import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { renderManifests } from './manifests.js';

test('manifests put the TLS files into the Secret and the flags into the Deployment', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vm-man-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  const objects = renderManifests({
    name: 'vic-a',
    namespace: 'vic-a-ns',
    target: 'tcp://vch:2376',
    image: 'registry.example/vic-kubelet:1',
    tls: { ca: join(dir, 'ca.pem'), noVerify: false },
    kubeletArgs: ['--node-labels=zone=a'],
  });
  t.deepEqual(
    objects.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'Namespace/vic-a-ns',
      'ServiceAccount/vic-kubelet',
      'ClusterRole/vic-kubelet',
      'ClusterRoleBinding/vic-kubelet',
      'ClusterRoleBinding/vic-kubelet-auth-delegator',
      'StorageClass/vic-default',
      'Secret/vic-kubelet-vic-a-vch-tls',
      'Deployment/vic-kubelet-vic-a',
    ],
  );
  const secret = objects.find((o) => o.kind === 'Secret') as { data: Record<string, string> } | undefined;
  t.deepEqual(secret?.data, { 'ca.pem': Buffer.from('CA').toString('base64') });
  const deployment = JSON.stringify(objects.at(-1));
  t.true(deployment.includes('"--vch-tls-ca=/etc/vic-kubelet/vch-tls/ca.pem"'));
  t.true(deployment.includes('"--node-labels=zone=a"'));
  t.true(deployment.includes('"value":"tcp://vch:2376"'));
  t.true(deployment.includes('"secretName":"vic-kubelet-vic-a-vch-tls"'));
  t.true(deployment.includes('"image":"registry.example/vic-kubelet:1"'));
  t.true(deployment.includes('"defaultMode":288'), 'the Secret files are 0440 for the fsGroup');
  const binding = JSON.stringify(
    objects.find((o) => o.metadata.name === 'vic-kubelet' && o.kind === 'ClusterRoleBinding'),
  );
  t.true(binding.includes('"namespace":"vic-a-ns"'));
});
