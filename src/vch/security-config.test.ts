// The security and hosts parts of the Docker create bodies, in both layouts.
import test from 'ava';
import {
  containerCreateOptions,
  dockerUser,
  sandboxCreateOptions,
  securityHostConfig,
} from './container-config.js';
import { checkVmPerPod, vmPerPodCreateOptions } from './layout/vm-per-pod.js';
import type { PodVmSpec } from './types.js';

const image = { entrypoint: [], cmd: ['sh'], user: 'nobody:nogroup' };
const spec: PodVmSpec = {
  pod: { namespace: 'ns', name: 'web', uid: 'u-1' },
  nodeName: 'n1',
  domainname: 'web.ns.svc.cluster.local',
  hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo', 'bar'] }],
  sysctls: { 'net.core.somaxconn': '1000' },
  containers: [
    {
      name: 'app',
      image: 'busybox',
      security: {
        uid: 1001,
        gid: 2002,
        supplementalGroups: [4004, 3003],
        readOnlyRootfs: true,
        noNewPrivileges: true,
        capAdd: ['NET_ADMIN'],
        capDrop: ['ALL'],
        seccompUnconfined: true,
      },
    },
  ],
};

test('Config.User as the dockershim wrote it; a gid alone keeps the image’s user', (t) => {
  t.is(dockerUser({ uid: 5 }, image), '5');
  t.is(dockerUser({ uid: 5, gid: 6 }, image), '5:6');
  t.is(dockerUser({ gid: 6 }, image), 'nobody:6');
  t.is(dockerUser({ gid: 6 }, { entrypoint: [], cmd: [] }), '0:6');
  t.is(dockerUser({ readOnlyRootfs: true }, image), undefined);
});

test('a shared-layout container carries its user, groups, capabilities and security options', (t) => {
  const o = containerCreateOptions(spec, spec.containers[0]!, {
    sandboxId: 'sb',
    role: 'app',
    index: 0,
    attempt: 0,
    image,
  });
  t.is(o.User, '1001:2002');
  t.like(o.HostConfig, {
    GroupAdd: ['4004', '3003'],
    ReadonlyRootfs: true,
    CapAdd: ['NET_ADMIN'],
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges', 'seccomp=unconfined'],
  });
  t.is(o.HostConfig?.Sysctls, undefined, 'sysctls belong to the sandbox');
  t.deepEqual(securityHostConfig(undefined), {});
});

test('the sandbox carries the pod’s domain, host aliases and sysctls for every container', (t) => {
  const o = sandboxCreateOptions(spec, { image: 'pause', attempt: 0 });
  t.is(o.Hostname, 'web');
  t.is(o.Domainname, 'web.ns.svc.cluster.local');
  t.deepEqual(o.HostConfig?.ExtraHosts, ['foo:10.1.2.3', 'bar:10.1.2.3']);
  t.deepEqual(o.HostConfig?.Sysctls, { 'net.core.somaxconn': '1000' });
});

test('vm-per-pod: the user and domain reach the container VM; what VIC drops is refused', (t) => {
  const plain: PodVmSpec = {
    ...spec,
    hostAliases: [],
    sysctls: {},
    containers: [{ name: 'app', image: 'busybox', security: { uid: 7, seccompUnconfined: true } }],
  };
  t.notThrows(() => checkVmPerPod(plain));
  const o = vmPerPodCreateOptions(plain, plain.containers[0]!, { role: 'app', index: 0, attempt: 0, image });
  t.is(o.User, '7');
  t.is(o.Domainname, 'web.ns.svc.cluster.local');
  t.is(o.HostConfig?.SecurityOpt, undefined);
  t.throws(() => checkVmPerPod(spec), { message: /host aliases cannot be added/ });
  t.throws(() => checkVmPerPod({ ...spec, hostAliases: [], sysctls: {} }), {
    message: /container "app" asks for GroupAdd, ReadonlyRootfs, no-new-privileges, CapAdd\/CapDrop/,
  });
});
