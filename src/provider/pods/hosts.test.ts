import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { fqdnTooLong, podHostnames } from './hosts.js';
import { podVmSpec } from './pod-vm-spec.js';

const pod = (spec: Partial<NonNullable<V1Pod['spec']>> = {}, name = 'web-0'): V1Pod => ({
  metadata: { name, namespace: 'shop', uid: 'u1' },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec },
});

test('hostname from spec.hostname else the pod name; a subdomain gives the pod its domain', (t) => {
  t.deepEqual(podHostnames(pod()), { hostname: 'web-0' });
  t.deepEqual(podHostnames(pod({ hostname: 'h', subdomain: 'web' }), 'example.org'), {
    hostname: 'h',
    domainname: 'web.shop.svc.example.org',
  });
  t.is(podHostnames(pod({}, `${'a'.repeat(62)}-b`)).hostname, 'a'.repeat(62));
});

test('setHostnameAsFQDN makes the FQDN the hostname, and one over 64 characters is refused in the kubelet’s words', (t) => {
  t.deepEqual(podHostnames(pod({ subdomain: 'web', setHostnameAsFQDN: true })), {
    hostname: 'web-0.web.shop.svc.cluster.local',
  });
  t.is(fqdnTooLong(pod({ subdomain: 'web', setHostnameAsFQDN: true })), undefined);
  const long = pod({ hostname: 'h'.repeat(40), subdomain: 'web', setHostnameAsFQDN: true });
  t.is(
    fqdnTooLong(long),
    `failed to construct FQDN from pod hostname and cluster domain, FQDN ${'h'.repeat(40)}.web.shop.svc.cluster.local is too long (64 characters is the max, 67 characters requested)`,
  );
});

test('host aliases, sysctls and each container’s settings reach the pod VM spec', (t) => {
  const p = pod({
    subdomain: 'web',
    hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo', 'bar'] }],
    securityContext: { runAsUser: 7, sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }] },
    initContainers: [{ name: 'init', image: 'busybox', securityContext: { readOnlyRootFilesystem: true } }],
  });
  const vm = podVmSpec({ pod: p, nodeName: 'n', env: new Map(), credentials: [] });
  t.is(vm.domainname, 'web.shop.svc.cluster.local');
  t.deepEqual(vm.hostAliases, [{ ip: '10.1.2.3', hostnames: ['foo', 'bar'] }]);
  t.deepEqual(vm.sysctls, { 'net.ipv4.tcp_syncookies': '1' });
  t.like(vm.containers[0]!.security, { uid: 7 });
  t.like(vm.initContainers![0]!.security, { uid: 7, readOnlyRootfs: true });
});
