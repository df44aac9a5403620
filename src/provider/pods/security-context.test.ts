import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { layoutLimits } from '../../vch/layout/limits.js';
import { admit } from './admission.js';
import {
  checkAllowedSysctls,
  containerSecurity,
  forbiddenSysctl,
  normalizeSysctl,
  podSysctls,
  runAsNonRootViolation,
  securityNeverSupported,
  securityUnsupported,
} from './security-context.js';

const pod = (spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec },
});
const room = { milliCpu: 4000, memoryBytes: 2 ** 33, pods: 10 };

test('pod and container levels merge as the kubelet merges them; fsGroup leads the groups', (t) => {
  const p = pod({
    securityContext: { runAsUser: 1, runAsGroup: 2, fsGroup: 4, supplementalGroups: [3] },
    containers: [
      {
        name: 'app',
        securityContext: {
          runAsUser: 10,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
      },
    ],
  });
  t.deepEqual(containerSecurity(p, p.spec!.containers[0]!), {
    uid: 10,
    gid: 2,
    supplementalGroups: [4, 3],
    readOnlyRootfs: true,
    noNewPrivileges: true,
    capAdd: ['NET_ADMIN'],
    capDrop: ['ALL'],
  });
});

test('no seccomp profile is the kubelet default: unconfined; allowPrivilegeEscalation true sets nothing', (t) => {
  const p = pod({ containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: true } }] });
  t.deepEqual(containerSecurity(p, p.spec!.containers[0]!), { seccompUnconfined: true });
});

test('runAsNonRoot: the kubelet’s words for a root image, a root runAsUser and a named user', (t) => {
  const p = pod({ securityContext: { runAsNonRoot: true } });
  const c = p.spec!.containers[0]!;
  t.is(
    runAsNonRootViolation(p, c, ''),
    'container has runAsNonRoot and image will run as root (pod: "web_ns(u1)", container: app)',
  );
  t.is(
    runAsNonRootViolation(p, c, '0:0'),
    'container has runAsNonRoot and image will run as root (pod: "web_ns(u1)", container: app)',
  );
  t.is(
    runAsNonRootViolation(p, c, 'nginx'),
    'container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: "web_ns(u1)", container: app)',
  );
  t.is(runAsNonRootViolation(p, c, '1000:1000'), undefined);
  const root = pod({ securityContext: { runAsNonRoot: true, runAsUser: 0 } });
  t.is(
    runAsNonRootViolation(root, root.spec!.containers[0]!, '1000'),
    'container\'s runAsUser breaks non-root policy (pod: "web_ns(u1)", container: app)',
  );
  t.is(runAsNonRootViolation(pod(), c, ''), undefined, 'not asked');
});

test('sysctls: the safe set passes, others need the operator, slashes read as dots', (t) => {
  const with_ = (name: string) => pod({ securityContext: { sysctls: [{ name, value: '1' }] } });
  t.is(forbiddenSysctl(with_('net.ipv4.tcp_syncookies')), undefined);
  t.is(forbiddenSysctl(with_('net/ipv4/ip_local_port_range')), undefined);
  t.is(
    forbiddenSysctl(with_('net.core.somaxconn')),
    'forbidden sysctl: "net.core.somaxconn" not allowlisted',
  );
  t.is(forbiddenSysctl(with_('net.core.somaxconn'), ['net.core.*']), undefined);
  t.is(forbiddenSysctl(with_('kernel.msgmax'), ['kernel.msgmax']), undefined);
  t.is(
    forbiddenSysctl({
      ...with_('net.ipv4.tcp_syncookies'),
      spec: {
        ...with_('x').spec!,
        hostNetwork: true,
        securityContext: { sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }] },
      },
    }),
    'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled',
  );
  t.is(normalizeSysctl('net/ipv4/conf/eth0.100/forwarding'), 'net.ipv4.conf.eth0/100.forwarding');
  t.deepEqual(podSysctls(with_('net/core/somaxconn')), { 'net.core.somaxconn': '1' });
  t.deepEqual(checkAllowedSysctls(['net.*', 'kernel.msg*', 'kernel.panic', 'vm.*']), [
    'kernel.panic',
    'vm.*',
  ]);
});

test('admission: SysctlForbidden as the kubelet, then what no layout gives, then what this layout lacks', (t) => {
  const unsafe = pod({ securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } });
  t.like(admit(unsafe, [], room), {
    admitted: false,
    reason: 'SysctlForbidden',
    message: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
  });
  t.like(admit(unsafe, [], room, layoutLimits('shared'), { allowedUnsafeSysctls: ['kernel.msg*'] }), {
    admitted: true,
  });
  const unmasked = pod({ containers: [{ name: 'app', securityContext: { procMount: 'Unmasked' } }] });
  t.deepEqual(securityNeverSupported(unmasked), [
    'spec.containers[app].securityContext.procMount (Unmasked)',
  ]);
  t.like(admit(unmasked, [], room, layoutLimits('shared')), {
    admitted: false,
    reason: 'UnsupportedPodSpec',
  });
  const caps = pod({
    hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
    containers: [{ name: 'app', securityContext: { capabilities: { drop: ['ALL'] }, runAsUser: 5 } }],
  });
  t.deepEqual(securityUnsupported(caps, layoutLimits('shared').settings), []);
  t.deepEqual(securityUnsupported(caps, layoutLimits('vm-per-pod').settings), [
    'spec.hostAliases',
    'spec.containers[app].securityContext.capabilities',
  ]);
  const refused = admit(caps, [], room, layoutLimits('vm-per-pod'));
  t.like(refused, { admitted: false, reason: 'UnsupportedPodSpec' });
  t.regex(
    refused.admitted ? '' : refused.message,
    /spec\.hostAliases, .*capabilities: this VCH runs every container as its own VM/,
  );
});
