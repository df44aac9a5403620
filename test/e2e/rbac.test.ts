// deploy/rbac.yaml grants enough and no more: vic-kubelet running as its ServiceAccount registers
// the node, runs and deletes a pod, and is refused what it was not granted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { kubeConfig, kubectl, testEnv, testNamespace } from '../support/env.js';
import { core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { VicKubelet } from '../support/vic-kubelet.js';

function tokenKubeconfig(token: string): string {
  const cluster = kubeConfig().getCurrentCluster();
  const dir = mkdtempSync(join(tmpdir(), 'vk-rbac-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: { server: cluster?.server, 'certificate-authority': join(testEnv.pkiDir, 'ca.crt') },
        },
      ],
      users: [{ name: 'vic-kubelet', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'vic-kubelet' } }],
      'current-context': 'c',
    }),
  );
  return file;
}

test('vic-kubelet runs a pod with only the permissions of deploy/rbac.yaml', async (t) => {
  const applied = await kubectl(['apply', '-f', join(testEnv.root, 'deploy/rbac.yaml')]);
  t.is(applied.exitCode, 0, applied.stderr);
  const token = await kubectl(['create', 'token', 'vic-kubelet', '-n', 'vic-system', '--duration', '1h']);
  t.is(token.exitCode, 0, token.stderr);
  const kubeconfig = tokenKubeconfig(token.stdout.trim());

  const denied = await kubectl(['--kubeconfig', kubeconfig, 'get', 'deployments', '-A']);
  t.not(denied.exitCode, 0, 'no access beyond what a kubelet needs');
  t.regex(denied.stderr, /forbidden/i);

  const vk = await VicKubelet.start({ args: ['--kubeconfig', kubeconfig] });
  const ns = await testNamespace(kubeConfig(), 'vk-rbac');
  t.teardown(async () => {
    await ns.cleanup();
    await vk.cleanup();
  });
  await vk.waitReady();
  await createPod(ns.name, 'limited', podOn(vk.nodeName, { containers: [shell('main', 'sleep 3600')] }));
  await podWhere(ns.name, 'limited', 'Running', (p) => p.status?.phase === 'Running');
  t.true((await podEvents(ns.name, 'limited')).some((e) => e.reason === 'Started'));
  await core().deleteNamespacedPod({ name: 'limited', namespace: ns.name, gracePeriodSeconds: 1 });
  const gone = await kubectl(['wait', '--for=delete', 'pod/limited', '-n', ns.name, '--timeout=60s']);
  t.is(gone.exitCode, 0, gone.stderr + vk.output().slice(-3000));
  t.false(/forbidden/i.test(vk.output()), 'no call was refused');
});
