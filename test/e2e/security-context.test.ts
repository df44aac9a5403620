// A pod's security context, sysctls and hosts file as a kubelet applies them, on the shared layout:
// each test runs a busybox pod through the real API server and engine and reads, with real kubectl,
// what the process itself sees (`id`, /proc/self/status, /proc/sys, /etc/hosts).
import test from 'ava';
import type * as k8s from '@kubernetes/client-node';
import { mergePatch } from '../../src/provider/kube/patch.js';
import { kubectl } from '../support/env.js';
import { containerStatus, core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-security', {
  args: ['--allowed-unsafe-sysctls', 'net.core.somaxconn,kernel.msg*'],
});

/** Runs a one-shot pod to its end and returns what its container printed. */
async function output(name: string, spec: Partial<k8s.V1PodSpec> & Pick<k8s.V1PodSpec, 'containers'>) {
  await createPod(node.ns, name, podOn(node.vk.nodeName, { restartPolicy: 'Never', ...spec }));
  const pod = await podWhere(node.ns, name, 'finished', (p) =>
    ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
  );
  const logs = await kubectl(['logs', '-n', node.ns, name]);
  return { pod, out: logs.stdout };
}

/** The capability mask of a /proc/<pid>/status line, e.g. "CapEff:\t00000000a80425fb". */
function capMask(status: string, field: string): bigint {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} line in:\n${status}`);
  return BigInt(`0x${m[1]}`);
}

// Docker's (and containerd's) default capability set, which is the kubelet's default too: CHOWN,
// DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT,
// MKNOD, AUDIT_WRITE, SETFCAP.
const DEFAULT_CAPS = 0xa80425fbn;
const CAP_NET_BIND_SERVICE = 1n << 10n;
const CAP_NET_ADMIN = 1n << 12n;

test('the process runs as the asked user and groups: runAsUser, runAsGroup, supplementalGroups, fsGroup', async (t) => {
  const { pod, out } = await output('ids', {
    securityContext: { runAsUser: 1001, runAsGroup: 2002, supplementalGroups: [3003], fsGroup: 4004 },
    containers: [shell('main', 'id')],
  });
  t.is(pod.status?.phase, 'Succeeded');
  t.is(out.trim(), 'uid=1001 gid=2002 groups=2002,3003,4004');
});

test('a container-level runAsUser wins over the pod’s; runAsGroup alone keeps the image user', async (t) => {
  await output('ids-override', {
    securityContext: { runAsUser: 1001 },
    containers: [
      shell('user', 'id', { securityContext: { runAsUser: 1500 } }),
      shell('group', 'id', { securityContext: { runAsGroup: 2500 } }),
    ],
  });
  const logs = async (c: string) => (await kubectl(['logs', '-n', node.ns, 'ids-override', '-c', c])).stdout;
  t.is((await logs('user')).trim(), 'uid=1500 gid=0(root) groups=0(root)');
  // The pod's runAsUser still applies to the second container: only its group is its own.
  t.is((await logs('group')).trim(), 'uid=1001 gid=2500 groups=2500');
  const alone = await output('ids-group', {
    containers: [shell('main', 'id', { securityContext: { runAsGroup: 2500 } })],
  });
  t.is(alone.out.trim(), 'uid=0(root) gid=2500 groups=2500');
});

test('readOnlyRootFilesystem: the root filesystem cannot be written', async (t) => {
  const script = 'touch /probe 2>/dev/null && echo writable || echo read-only';
  await output('rofs', {
    containers: [
      shell('ro', script, { securityContext: { readOnlyRootFilesystem: true } }),
      shell('rw', script),
    ],
  });
  const ro = await kubectl(['logs', '-n', node.ns, 'rofs', '-c', 'ro']);
  const rw = await kubectl(['logs', '-n', node.ns, 'rofs', '-c', 'rw']);
  t.is(ro.stdout.trim(), 'read-only');
  t.is(rw.stdout.trim(), 'writable');
});

test('allowPrivilegeEscalation false sets no_new_privs on the process; the default leaves it off', async (t) => {
  await output('nnp', {
    containers: [
      shell('locked', 'grep NoNewPrivs /proc/self/status', {
        securityContext: { allowPrivilegeEscalation: false },
      }),
      shell('open', 'grep NoNewPrivs /proc/self/status'),
    ],
  });
  const locked = await kubectl(['logs', '-n', node.ns, 'nnp', '-c', 'locked']);
  const open = await kubectl(['logs', '-n', node.ns, 'nnp', '-c', 'open']);
  t.is(locked.stdout.trim(), 'NoNewPrivs:\t1');
  t.is(open.stdout.trim(), 'NoNewPrivs:\t0');
});

test('capabilities: drop ALL add NET_BIND_SERVICE leaves exactly that one; add NET_ADMIN joins the default set', async (t) => {
  await output('caps', {
    containers: [
      shell('only', 'grep Cap /proc/self/status', {
        securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
      }),
      shell('more', 'grep Cap /proc/self/status', {
        securityContext: { capabilities: { add: ['NET_ADMIN'] } },
      }),
      shell('plain', 'grep Cap /proc/self/status'),
    ],
  });
  const logs = async (c: string) => (await kubectl(['logs', '-n', node.ns, 'caps', '-c', c])).stdout;
  const only = await logs('only');
  t.is(capMask(only, 'CapEff'), CAP_NET_BIND_SERVICE);
  t.is(capMask(only, 'CapBnd'), CAP_NET_BIND_SERVICE);
  t.is(capMask(await logs('more'), 'CapEff'), DEFAULT_CAPS | CAP_NET_ADMIN);
  t.is(capMask(await logs('plain'), 'CapEff'), DEFAULT_CAPS);
});

test('sysctls: a safe one and an operator-allowed unsafe one are what the pod sees', async (t) => {
  const { pod, out } = await output('sysctls', {
    securityContext: {
      sysctls: [
        { name: 'net.ipv4.ip_unprivileged_port_start', value: '2000' },
        { name: 'net.core.somaxconn', value: '1000' },
        { name: 'kernel.msgmax', value: '9000' },
      ],
    },
    containers: [
      shell(
        'main',
        'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/core/somaxconn /proc/sys/kernel/msgmax',
      ),
    ],
  });
  t.is(pod.status?.phase, 'Succeeded');
  t.deepEqual(out.trim().split('\n'), ['2000', '1000', '9000']);
});

test('an unsafe sysctl the operator did not allow fails the pod with SysctlForbidden and an event', async (t) => {
  await createPod(
    node.ns,
    'sysctl-forbidden',
    podOn(node.vk.nodeName, {
      securityContext: { sysctls: [{ name: 'net.ipv4.tcp_congestion_control', value: 'reno' }] },
      containers: [shell('main', 'sleep 3600')],
    }),
  );
  const pod = await podWhere(node.ns, 'sysctl-forbidden', 'failed', (p) => p.status?.phase === 'Failed');
  t.is(pod.status?.reason, 'SysctlForbidden');
  t.is(pod.status?.message, 'forbidden sysctl: "net.ipv4.tcp_congestion_control" not allowlisted');
  t.is(pod.status?.observedGeneration, pod.metadata?.generation);
  const events = await podEvents(node.ns, 'sysctl-forbidden');
  t.true(events.some((e) => e.reason === 'SysctlForbidden' && e.type === 'Warning'));
});

test('runAsNonRoot with an image that runs as root: CreateContainerConfigError with the kubelet’s message', async (t) => {
  const pod = await createPod(
    node.ns,
    'nonroot',
    podOn(node.vk.nodeName, {
      securityContext: { runAsNonRoot: true },
      containers: [shell('main', 'sleep 3600')],
    }),
  );
  const seen = await podWhere(
    node.ns,
    'nonroot',
    'CreateContainerConfigError',
    (p) => containerStatus(p, 'main')?.state?.waiting?.reason === 'CreateContainerConfigError',
  );
  t.is(
    containerStatus(seen, 'main')?.state?.waiting?.message,
    `container has runAsNonRoot and image will run as root (pod: "nonroot_${node.ns}(${pod.metadata?.uid})", container: main)`,
  );
  // With a non-root user the same pod runs.
  const ok = await output('nonroot-ok', {
    securityContext: { runAsNonRoot: true, runAsUser: 1001 },
    containers: [shell('main', 'id -u')],
  });
  t.is(ok.out.trim(), '1001');
});

test('a Localhost seccomp profile is refused at admission, naming the field, with an event', async (t) => {
  await createPod(
    node.ns,
    'seccomp-local',
    podOn(node.vk.nodeName, {
      containers: [
        shell('main', 'sleep 3600', {
          securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } },
        }),
      ],
    }),
  );
  const pod = await podWhere(node.ns, 'seccomp-local', 'failed', (p) => p.status?.phase === 'Failed');
  t.is(pod.status?.reason, 'UnsupportedPodSpec');
  t.is(
    pod.status?.message,
    'Pod cannot run in a pod VM on a virtual node: spec.containers[main].securityContext.seccompProfile (Localhost: this node keeps no seccomp profiles) is not supported',
  );
  const events = await podEvents(node.ns, 'seccomp-local');
  t.true(events.some((e) => e.reason === 'UnsupportedPodSpec' && e.message === pod.status?.message));
});

test('procMount Unmasked (with hostUsers false, as the API server demands) is refused at admission', async (t) => {
  await createPod(
    node.ns,
    'unmasked',
    podOn(node.vk.nodeName, {
      hostUsers: false,
      containers: [shell('main', 'sleep 3600', { securityContext: { procMount: 'Unmasked' } })],
    }),
  );
  const pod = await podWhere(node.ns, 'unmasked', 'failed', (p) => p.status?.phase === 'Failed');
  t.is(pod.status?.reason, 'UnsupportedPodSpec');
  t.is(
    pod.status?.message,
    'Pod cannot run in a pod VM on a virtual node: spec.hostUsers (false: a user namespace), spec.containers[main].securityContext.procMount (Unmasked) are not supported',
  );
});

test('seccompProfile: Unconfined (the kubelet default) has no filter; RuntimeDefault is the engine’s filter', async (t) => {
  await output('seccomp', {
    containers: [
      shell('default', 'grep Seccomp: /proc/self/status', {
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      }),
      shell('unset', 'grep Seccomp: /proc/self/status'),
    ],
  });
  const logs = async (c: string) => (await kubectl(['logs', '-n', node.ns, 'seccomp', '-c', c])).stdout;
  t.is((await logs('default')).trim(), 'Seccomp:\t2');
  t.is((await logs('unset')).trim(), 'Seccomp:\t0');
});

test('/etc/hosts holds the pod’s own entry (IP, FQDN, hostname) and the hostAliases; hostname as asked', async (t) => {
  const { pod, out } = await output('hosts', {
    hostname: 'web-1',
    subdomain: 'web',
    hostAliases: [
      { ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] },
      { ip: '10.1.2.4', hostnames: ['baz.remote'] },
    ],
    containers: [shell('main', 'cat /etc/hosts; echo ---; hostname'), shell('side', 'cat /etc/hosts')],
  });
  const [hosts = '', hostname = ''] = out.split('---\n');
  t.is(hostname.trim(), 'web-1');
  const names = new Map<string, string>();
  for (const line of hosts.split('\n')) {
    const [ip, ...rest] = line.split(/\s+/).filter(Boolean);
    if (ip && !ip.startsWith('#')) for (const n of rest) names.set(n, ip);
  }
  const fqdn = `web-1.web.${node.ns}.svc.cluster.local`;
  t.is(names.get(fqdn), pod.status?.podIP);
  t.is(names.get('web-1'), pod.status?.podIP);
  t.is(names.get('foo.remote'), '10.1.2.3');
  t.is(names.get('bar.remote'), '10.1.2.3');
  t.is(names.get('baz.remote'), '10.1.2.4');
  t.true(
    hosts.split('\n').some((l) => /^127\.0\.0\.1\s+localhost$/.test(l)),
    hosts,
  );
  // Every container of the pod sees the same file.
  const side = await kubectl(['logs', '-n', node.ns, 'hosts', '-c', 'side']);
  t.is(side.stdout, hosts);
});

test('setHostnameAsFQDN: the kernel hostname is the pod’s FQDN', async (t) => {
  const { out } = await output('fqdn', {
    hostname: 'db-0',
    subdomain: 'db',
    setHostnameAsFQDN: true,
    containers: [shell('main', 'hostname')],
  });
  t.is(out.trim(), `db-0.db.${node.ns}.svc.cluster.local`);
});

test('observedGeneration follows a spec update, on the status and on each kubelet condition', async (t) => {
  await createPod(node.ns, 'gen', podOn(node.vk.nodeName, { containers: [shell('main', 'sleep 3600')] }));
  const first = await podWhere(
    node.ns,
    'gen',
    'status of generation 1',
    (p) => p.status?.observedGeneration === 1,
  );
  t.is(first.metadata?.generation, 1);
  // activeDeadlineSeconds may be set on a running pod and bumps metadata.generation.
  const updated = await core().patchNamespacedPod(
    { name: 'gen', namespace: node.ns, body: { spec: { activeDeadlineSeconds: 3600 } } },
    mergePatch,
  );
  t.is(updated.metadata?.generation, 2);
  const second = await podWhere(
    node.ns,
    'gen',
    'status of generation 2',
    (p) => p.status?.observedGeneration === 2,
  );
  const kubeletConditions = (second.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
  t.deepEqual(
    kubeletConditions.map((c) => [c.type, c.observedGeneration]),
    kubeletConditions.map((c) => [c.type, 2]),
  );
  t.true(kubeletConditions.length >= 4);
});

test('status.user is who the process is, as `id` prints it (explicit ids, and the image’s root with its groups)', async (t) => {
  const print = 'echo "$(id -u) $(id -g) $(id -G)"; sleep 3600';
  await createPod(
    node.ns,
    'who',
    podOn(node.vk.nodeName, {
      securityContext: { supplementalGroups: [3003], fsGroup: 4004 },
      containers: [
        shell('asked', print, { securityContext: { runAsUser: 1001, runAsGroup: 2002 } }),
        shell('image', print),
      ],
    }),
  );
  const pod = await podWhere(node.ns, 'who', 'both containers with a user', (p) =>
    ['asked', 'image'].every((c) => containerStatus(p, c)?.user?.linux !== undefined),
  );
  for (const c of ['asked', 'image']) {
    const line = (await kubectl(['logs', '-n', node.ns, 'who', '-c', c])).stdout.trim();
    const [uid, gid, ...groups] = line.split(/\s+/).map(Number);
    const user = containerStatus(pod, c)?.user?.linux;
    t.is(user?.uid, uid, `${c}: ${line}`);
    t.is(user?.gid, gid, `${c}: ${line}`);
    t.deepEqual(
      [...(user?.supplementalGroups ?? [])].sort((a, b) => a - b),
      [...groups].sort((a, b) => a - b),
      c,
    );
  }
  t.is(containerStatus(pod, 'asked')?.user?.linux?.uid, 1001);
  t.true(containerStatus(pod, 'asked')?.user?.linux?.supplementalGroups?.includes(4004));
});

test('lifecycle.stopSignal: a liveness kill sends the asked signal; status reports it, and SIGTERM where unset', async (t) => {
  // The process says which signal stopped it; a failing liveness probe stops it (Killing), the
  // restarted container keeps the previous attempt's log for `logs --previous`.
  const traps =
    "trap 'echo stopped-by-USR1; exit 0' USR1; trap 'echo stopped-by-TERM; exit 0' TERM; " +
    '(sleep 3; touch /tmp/die) & while true; do sleep 1; done';
  await createPod(
    node.ns,
    'stopsig',
    podOn(node.vk.nodeName, {
      os: { name: 'linux' },
      containers: [
        shell('usr1', traps, {
          lifecycle: { stopSignal: 'SIGUSR1' },
          livenessProbe: {
            exec: { command: ['test', '!', '-f', '/tmp/die'] },
            periodSeconds: 1,
            failureThreshold: 1,
          },
        }),
        shell('default', 'sleep 3600'),
      ],
    }),
  );
  const pod = await podWhere(
    node.ns,
    'stopsig',
    'usr1 restarted once',
    (p) => (containerStatus(p, 'usr1')?.restartCount ?? 0) >= 1,
  );
  const previous = await kubectl(['logs', '-n', node.ns, 'stopsig', '-c', 'usr1', '--previous']);
  t.is(previous.stdout.trim(), 'stopped-by-USR1');
  t.is(containerStatus(pod, 'usr1')?.stopSignal, 'SIGUSR1');
  t.is(containerStatus(pod, 'default')?.stopSignal, 'SIGTERM');
});
