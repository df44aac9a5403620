// Security context and hosts fields in the vm-per-pod layout, through the VIC contract proxy
// (test/support/vic-proxy.ts): what VIC passes on to a container VM (the user) works; what it would
// drop without a word (capabilities, a read-only root filesystem, no-new-privileges, supplemental
// groups, sysctls, host aliases) fails the pod at admission with UnsupportedPodSpec naming each field,
// and an event, before anything is created on the VCH.
import test from 'ava';
import { kubectl, testEnv } from '../support/env.js';
import { createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { podVmContainers } from '../support/vic-kubelet.js';
import { VIC_POOL_CAPACITY, vicProxyForFile } from '../support/vic-proxy.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const vic = vicProxyForFile(test, testEnv.dockerHost);
const node = virtualNodeForFile(test, 'vk-security-vic', {
  args: ['--vch', vic.endpoint, ...VIC_POOL_CAPACITY],
});

test.after.always('nothing VIC lacks was asked of the VIC proxy', (t) => {
  t.deepEqual(vic.proxy.refused, []);
});

test('runAsUser and runAsGroup reach the container VM (Config.User)', async (t) => {
  await createPod(
    node.ns,
    'user',
    podOn(node.vk.nodeName, {
      restartPolicy: 'Never',
      securityContext: { runAsUser: 1001, runAsGroup: 2002 },
      containers: [shell('main', 'id')],
    }),
  );
  const pod = await podWhere(node.ns, 'user', 'finished', (p) =>
    ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
  );
  t.is(pod.status?.phase, 'Succeeded');
  const logs = await kubectl(['logs', '-n', node.ns, 'user']);
  t.is(logs.stdout.trim(), 'uid=1001 gid=2002 groups=2002');
});

test('fields VIC cannot give fail the pod at admission, each named, with an event and nothing created', async (t) => {
  const pod = await createPod(
    node.ns,
    'locked-down',
    podOn(node.vk.nodeName, {
      securityContext: {
        supplementalGroups: [3003],
        sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '2000' }],
      },
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.remote'] }],
      containers: [
        shell('main', 'sleep 3600', {
          securityContext: {
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          },
        }),
      ],
    }),
  );
  const failed = await podWhere(node.ns, 'locked-down', 'failed', (p) => p.status?.phase === 'Failed');
  t.is(failed.status?.reason, 'UnsupportedPodSpec');
  const message = failed.status?.message ?? '';
  for (const field of [
    'spec.securityContext.supplementalGroups',
    'spec.securityContext.sysctls',
    'spec.hostAliases',
    'spec.containers[main].securityContext.readOnlyRootFilesystem',
    'spec.containers[main].securityContext.allowPrivilegeEscalation',
    'spec.containers[main].securityContext.capabilities',
  ]) {
    t.true(message.includes(field), `${field} in: ${message}`);
  }
  t.true(message.endsWith('(pod layout vm-per-pod)'), message);
  const events = await podEvents(node.ns, 'locked-down');
  t.true(events.some((e) => e.reason === 'UnsupportedPodSpec' && e.message === message));
  const made = (await podVmContainers(node.vk.nodeName)).filter(
    (c) => c.labels['vic-kubelet.io/pod-uid'] === pod.metadata?.uid,
  );
  t.deepEqual(made, []);
});
