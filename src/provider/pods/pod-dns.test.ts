import type { V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { podDns } from './pod-dns.js';

const pod = (spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'team', uid: 'u1' },
  spec: { containers: [], ...spec },
});

test('ClusterFirst: the cluster DNS server, the namespace search path and ndots:5', (t) => {
  const { dns, fallback } = podDns(pod(), { clusterDns: ['10.96.0.10'], clusterDomain: 'cluster.local' });
  t.deepEqual(dns, {
    nameservers: ['10.96.0.10'],
    searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
    options: ['ndots:5'],
  });
  t.is(fallback, undefined);
});

test('ClusterFirst without a cluster DNS falls back to Default with the kubelet warning', (t) => {
  const { dns, fallback } = podDns(pod(), {});
  t.deepEqual(dns, {});
  t.is(fallback?.reason, 'MissingClusterDNS');
  t.regex(
    fallback?.message ?? '',
    /cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy/,
  );
});

test('None takes dnsConfig alone; dnsConfig merges over ClusterFirst, options replacing by name', (t) => {
  const config = {
    nameservers: ['1.1.1.1'],
    searches: ['example.org'],
    options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
  };
  t.deepEqual(podDns(pod({ dnsPolicy: 'None', dnsConfig: config }), { clusterDns: ['10.96.0.10'] }).dns, {
    nameservers: ['1.1.1.1'],
    searches: ['example.org'],
    options: ['ndots:2', 'edns0'],
  });
  t.deepEqual(podDns(pod({ dnsConfig: config }), { clusterDns: ['10.96.0.10'] }).dns, {
    nameservers: ['10.96.0.10', '1.1.1.1'],
    searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'example.org'],
    options: ['ndots:2', 'edns0'],
  });
});

test('Default uses the VCH resolver: nothing is set unless dnsConfig says so', (t) => {
  t.deepEqual(podDns(pod({ dnsPolicy: 'Default' }), { clusterDns: ['10.96.0.10'] }).dns, {});
});
