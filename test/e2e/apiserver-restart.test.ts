// vic-kubelet survives its API server going away: no crash, no pile-up, heartbeats resume.
// Serial and alone in its file: restarting the API server disturbs everything else that runs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, testEnv } from '../support/env.js';
import { VicKubelet } from '../support/vic-kubelet.js';

const run = promisify(execFile);

test.serial(
  'restarting the API server does not kill vic-kubelet and the Lease is renewed again',
  async (t) => {
    const vk = await VicKubelet.start();
    t.teardown(() => vk.cleanup());
    // On failure, everything vic-kubelet printed: the API server's absence is what this test is about.
    t.teardown(() => {
      if (!t.passed) t.log(vk.output().slice(-20_000));
    });
    await vk.waitReady();
    const leases = () => kubeConfig().makeApiClient(k8s.CoordinationV1Api);
    // The Lease is written by its own loop and may appear a moment after the node turns Ready.
    const before = await eventually(
      'the node Lease',
      () => leases().readNamespacedLease({ name: vk.nodeName, namespace: 'kube-node-lease' }),
      { timeoutMs: 30_000 },
    );

    // Down for a while (longer than one renewal interval), then back.
    await run('bash', [join(testEnv.root, 'test/env/controlplane.sh'), 'stop-apiserver']);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    t.true(vk.running, vk.output().slice(-2000));
    await run('bash', [join(testEnv.root, 'test/env/controlplane.sh'), 'start-apiserver']);

    const renewed = await eventually(
      'a lease renewal after the restart',
      async () => {
        const lease = await leases().readNamespacedLease({ name: vk.nodeName, namespace: 'kube-node-lease' });
        const renew = new Date(lease.spec?.renewTime ?? 0).getTime();
        return renew > new Date(before.spec?.renewTime ?? 0).getTime() + 15_000 ? lease : undefined;
      },
      { timeoutMs: 60_000 },
    );
    t.is(renewed.spec?.holderIdentity, vk.nodeName);
    t.true(vk.running);
    await vk.waitReady();
    // Retries back off rather than pile up: a handful of warnings, not hundreds.
    const warnings = vk
      .output()
      .split('\n')
      .filter((l) => l.includes('"level":40')).length;
    t.true(warnings < 60, `${warnings} warnings while the API server was away`);
  },
);
