// vic-machine against the real control plane and Docker engine: create brings a node to Ready under
// a supervisor that restarts a killed vic-kubelet without losing a pod; delete --force removes node,
// processes and pod VMs; each preflight failure says what is wrong; manifests pass the API server's
// dry run. Also: vic-kubelet itself exits non-zero after an uncaught exception or unhandled rejection.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, kubectl, testEnv, testNamespace, uniqueName } from '../support/env.js';
import { core, createPod, podOn, podWhere, shell } from '../support/pods.js';
import { freePort, podVmContainers, removePodVms, VicKubelet } from '../support/vic-kubelet.js';

const execFileAsync = promisify(execFile);
const stateDir = mkdtempSync(join(tmpdir(), 'vic-machine-e2e-'));
const server = () => kubeConfig().getCurrentCluster()?.server ?? '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs vic-machine from the sources, as the tests run vic-kubelet, with this file's state folder. */
async function vicMachine(args: string[], timeoutMs = 150_000): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--import=tsx', join(testEnv.root, 'src/cli/vic-machine.ts'), '--state-dir', stateDir, ...args],
    { cwd: testEnv.root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function createArgs(name: string, overrides: Record<string, string> = {}, extra: string[] = []) {
  const flags: Record<string, string> = {
    '--name': name,
    '--target': testEnv.dockerHost,
    '--k8s-server-address': server(),
    '--k8s-config': testEnv.kubeconfig,
    '--kubelet-port': String(await freePort()),
    '--kubelet-address': '127.0.0.1',
    '--node-ip': '127.0.0.1',
    '--client-ca-file': join(testEnv.pkiDir, 'ca.crt'),
    '--sandbox-image': testEnv.pauseImage,
    '--timeout': '150s',
    ...overrides,
  };
  return ['create', ...Object.entries(flags).flat(), ...extra];
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Inspection {
  node: { state: string; pods?: number };
  process: { running: boolean; supervisorPid?: number; kubeletPid?: number; restarts: number };
  vch: { reachable: boolean };
}

async function inspect(name: string): Promise<Inspection> {
  const run = await vicMachine(['inspect', '--name', name, '--json']);
  if (run.code !== 0) throw new Error(`inspect failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Inspection;
}

/** Removes what a failed test may leave: processes through vic-machine, then node and pod VMs. */
async function forget(name: string): Promise<void> {
  if (existsSync(join(stateDir, name))) await vicMachine(['delete', '--name', name, '--force']);
  await core()
    .deleteNode({ name })
    .catch(() => undefined);
  await removePodVms(name);
}

/** A kubeconfig for the test API server that authenticates with a bearer token. */
function tokenKubeconfig(token: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vm-kc-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'c', cluster: { server: server(), 'certificate-authority': join(testEnv.pkiDir, 'ca.crt') } },
      ],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  return file;
}

async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  await core().createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const token = await kubectl(['create', 'token', name, '-n', namespace, '--duration', '1h']);
  if (token.exitCode !== 0) throw new Error(token.stderr);
  return token.stdout.trim();
}

test.serial(
  'create brings a node to Ready; a killed vic-kubelet is restarted without losing its pod; start brings it back after a reboot; delete --force removes node, processes and pod VMs',
  async (t) => {
    t.timeout(360_000, 'the machine is shared and loaded: vic-machine runs take seconds each');
    const name = uniqueName('vm-e2e');
    const ns = await testNamespace(kubeConfig(), 'vm-e2e');
    t.teardown(async () => {
      await ns.cleanup();
      await forget(name);
    });

    const created = await vicMachine(
      await createArgs(name, {}, ['--node-labels', 'vic-machine-e2e=yes', '--capacity', 'pods=7']),
    );
    t.is(created.code, 0, created.stderr);
    const registered = await core().readNode({ name });
    t.is(registered.metadata?.labels?.['vic-machine-e2e'], 'yes');
    t.is(registered.status?.capacity?.pods, '7');
    // The taints the node registers with; node.kubernetes.io/not-ready is the node lifecycle
    // controller's, added to a new node and removed a moment after it sees Ready (a race to read).
    t.deepEqual(
      registered.spec?.taints
        ?.filter((x) => !x.key.startsWith('node.kubernetes.io/'))
        .map((x) => `${x.key}=${x.value ?? ''}:${x.effect}`),
      ['virtual-kubelet.io/provider=vic:NoSchedule'],
    );
    t.is(created.stdout, `${name}\tReady\n`);
    t.regex(created.stderr, /✔ VCH unix:\/\/\S+ answers: Docker /);
    t.regex(created.stderr, /✔ its user may do all \d+ things vic-kubelet does/);

    const listed = JSON.parse((await vicMachine(['ls', '--json'])).stdout) as {
      name: string;
      process: string;
      node: string;
    }[];
    t.like(
      listed.find((r) => r.name === name),
      { process: 'running', node: 'Ready' },
    );

    await createPod(ns.name, 'kept', podOn(name, { containers: [shell('main', 'sleep 3600')] }));
    const running = await podWhere(ns.name, 'kept', 'Running', (p) => p.status?.phase === 'Running');
    const containerId = running.status?.containerStatuses?.[0]?.containerID;
    const vmsBefore = (await podVmContainers(name)).map((c) => c.id).sort();
    t.truthy(containerId);

    const before = await inspect(name);
    t.is(before.node.state, 'Ready');
    t.is(before.node.pods, 1);
    t.true(before.process.running);
    t.is(before.process.restarts, 0);
    const killed = before.process.kubeletPid ?? 0;
    t.true(killed > 0);

    process.kill(killed, 'SIGKILL');
    const after = await eventually(
      'vic-kubelet restarted by its supervisor',
      async () => {
        const i = await inspect(name);
        return i.process.kubeletPid !== undefined &&
          i.process.kubeletPid !== killed &&
          i.process.restarts === 1
          ? i
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    t.is(after.process.supervisorPid, before.process.supervisorPid);
    // The restarted vic-kubelet takes the pod over as it is: same container, no restart, same pod VM.
    const kept = await podWhere(
      ns.name,
      'kept',
      'still Running after the restart, with a fresh status from the new vic-kubelet',
      (p) =>
        p.status?.phase === 'Running' &&
        (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    t.is(kept.status?.containerStatuses?.[0]?.containerID, containerId);
    t.is(kept.status?.containerStatuses?.[0]?.restartCount, 0);
    t.deepEqual((await podVmContainers(name)).map((c) => c.id).sort(), vmsBefore);
    await eventually('node Ready again', async () =>
      (await inspect(name)).node.state === 'Ready' ? true : undefined,
    );

    // A reboot of this machine: every process gone at once, the state folder left on disk. `start`
    // brings the node back from it, waiting for a heartbeat of the new vic-kubelet (the Node still
    // reads Ready from the old one for a while), and the pod is still the same container.
    const [oldSupervisor, oldKubelet] = [after.process.supervisorPid ?? 0, after.process.kubeletPid ?? 0];
    process.kill(oldSupervisor, 'SIGKILL');
    process.kill(oldKubelet, 'SIGKILL');
    await eventually('the old processes gone', async () =>
      !alive(oldSupervisor) && !alive(oldKubelet) ? true : undefined,
    );
    const stopped = JSON.parse((await vicMachine(['ls', '--json'])).stdout) as {
      name: string;
      process: string;
    }[];
    t.like(
      stopped.find((r) => r.name === name),
      { process: 'stopped' },
    );
    const restarted = await vicMachine(['start', '--name', name, '--timeout', '150s']);
    t.is(restarted.code, 0, restarted.stderr);
    t.true(restarted.stderr.includes(`✔ node ${name} is Ready`), restarted.stderr);
    const rebooted = await inspect(name);
    t.is(rebooted.node.state, 'Ready');
    t.true(rebooted.process.running);
    t.not(rebooted.process.kubeletPid, oldKubelet);
    const afterReboot = await podWhere(
      ns.name,
      'kept',
      'Running after the reboot',
      (p) => p.status?.phase === 'Running',
    );
    t.is(afterReboot.status?.containerStatuses?.[0]?.containerID, containerId);
    t.is(afterReboot.status?.containerStatuses?.[0]?.restartCount, 0);

    const refused = await vicMachine(['delete', '--name', name]);
    t.is(refused.code, 1);
    t.regex(refused.stderr, new RegExp(`virtual node "${name}" still has 1 pods and \\d+ pod VMs`));
    t.true(alive(rebooted.process.kubeletPid ?? 0), 'a refused delete leaves it running');

    const deleted = await vicMachine(['delete', '--name', name, '--force']);
    t.is(deleted.code, 0, deleted.stderr);
    t.false(alive(rebooted.process.kubeletPid ?? 0), 'vic-kubelet is gone');
    t.false(alive(rebooted.process.supervisorPid ?? 0), 'its supervisor is gone');
    t.deepEqual(await podVmContainers(name), [], 'no pod VM is left on the VCH');
    const node = await core()
      .readNode({ name })
      .then(
        () => 'present',
        (err: { code?: number }) => err.code,
      );
    t.is(node, 404);
    t.false(existsSync(join(stateDir, name)), 'its state folder is gone');
  },
);

test.serial('create says the VCH is unreachable, and keeps nothing', async (t) => {
  t.timeout(360_000, 'the machine is shared and loaded: vic-machine runs take seconds each');
  const name = uniqueName('vm-down');
  const port = await freePort();
  const run = await vicMachine(await createArgs(name, { '--target': `tcp://127.0.0.1:${port}` }));
  t.is(run.code, 1);
  t.regex(run.stderr, new RegExp(`VCH unreachable at tcp://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  t.false(existsSync(join(stateDir, name)));
});

/** The test VCH behind TLS with a self-signed certificate for 127.0.0.1: a real TLS endpoint. */
async function tlsVch(t: { teardown(fn: () => void): void }): Promise<{ endpoint: string; cert: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vm-tls-'));
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  const socketPath = testEnv.dockerHost.replace(/^unix:\/\//, '');
  const proxy = createTlsServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (client) => {
      const engine = connect(socketPath);
      client.pipe(engine).pipe(client);
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
    },
  );
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => proxy.close());
  const address = proxy.address() as { port: number };
  return { endpoint: `https://127.0.0.1:${address.port}`, cert: join(dir, 'cert.pem') };
}

test.serial('create says the VCH certificate is rejected, and accepts it when pinned', async (t) => {
  t.timeout(360_000, 'the machine is shared and loaded: vic-machine runs take seconds each');
  const vch = await tlsVch(t);
  const rejected = await vicMachine(await createArgs(uniqueName('vm-tls'), { '--target': vch.endpoint }));
  t.is(rejected.code, 1);
  t.regex(
    rejected.stderr,
    /VCH certificate rejected at https:\/\/127\.0\.0\.1:\d+ \(DEPTH_ZERO_SELF_SIGNED_CERT\): give the CA that signed it \(--tls-ca\)/,
  );
  // Pinned, or unverified, the VCH check passes; a wrong API server address then stops the create.
  for (const extra of [['--tls-server-cert', vch.cert], ['--no-tlsverify']]) {
    const run = await vicMachine(
      await createArgs(
        uniqueName('vm-tls'),
        { '--target': vch.endpoint, '--k8s-server-address': 'https://127.0.0.1:1' },
        extra,
      ),
    );
    t.is(run.code, 1);
    t.regex(run.stderr, /✔ VCH https:\/\/127\.0\.0\.1:\d+ answers: Docker/, extra.join(' '));
    t.regex(run.stderr, /points at/);
  }
});

test.serial('create says the kubeconfig names another API server than --k8s-server-address', async (t) => {
  t.timeout(360_000, 'the machine is shared and loaded: vic-machine runs take seconds each');
  const run = await vicMachine(
    await createArgs(uniqueName('vm-kc'), { '--k8s-server-address': 'https://127.0.0.1:1' }),
  );
  t.is(run.code, 1);
  t.true(
    run.stderr.includes(
      `vic-machine: --k8s-config ${testEnv.kubeconfig} points at ${server()}, not at --k8s-server-address https://127.0.0.1:1`,
    ),
    run.stderr,
  );
});

test.serial(
  'create says which permissions the kubeconfig user lacks, and when its credentials are refused',
  async (t) => {
    t.timeout(360_000, 'the machine is shared and loaded: vic-machine runs take seconds each');
    const ns = await testNamespace(kubeConfig(), 'vm-rbac');
    const roleName = uniqueName('vm-no-leases');
    const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    t.teardown(async () => {
      await ns.cleanup();
      await rbac.deleteClusterRole({ name: roleName }).catch(() => undefined);
      await rbac.deleteClusterRoleBinding({ name: roleName }).catch(() => undefined);
      await rbac.deleteClusterRoleBinding({ name: `${roleName}-auth` }).catch(() => undefined);
    });

    // No binding at all: every permission is missing, nodes first.
    const bare = tokenKubeconfig(await serviceAccountToken(ns.name, 'bare'));
    const none = await vicMachine(await createArgs(uniqueName('vm-rbac'), { '--k8s-config': bare }));
    t.is(none.code, 1);
    t.regex(
      none.stderr,
      /RBAC: the user "u" of --k8s-config may not get nodes, list nodes, watch nodes, create nodes/,
    );

    // The vic-kubelet ClusterRole without its Lease rule: exactly the Lease verbs are named.
    const full = (await rbac.readClusterRole({ name: 'vic-kubelet' }).catch(() => undefined)) ?? undefined;
    const applied = full
      ? { exitCode: 0, stderr: '' }
      : await kubectl(['apply', '-f', join(testEnv.root, 'deploy/rbac.yaml')]);
    t.is(applied.exitCode, 0, applied.stderr);
    const rules = (await rbac.readClusterRole({ name: 'vic-kubelet' })).rules ?? [];
    await rbac.createClusterRole({
      body: { metadata: { name: roleName }, rules: rules.filter((r) => !r.resources?.includes('leases')) },
    });
    const subjects = [{ kind: 'ServiceAccount', name: 'partial', namespace: ns.name }];
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: roleName },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
        subjects,
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: `${roleName}-auth` },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'system:auth-delegator',
        },
        subjects,
      },
    });
    const partial = tokenKubeconfig(await serviceAccountToken(ns.name, 'partial'));
    const leases = await vicMachine(await createArgs(uniqueName('vm-rbac'), { '--k8s-config': partial }));
    t.is(leases.code, 1);
    const leaseVerbs = rules.find((r) => r.resources?.includes('leases'))?.verbs ?? [];
    t.true(leaseVerbs.length > 0);
    t.true(
      leases.stderr.includes(
        `may not ${leaseVerbs.map((v) => `${v} leases.coordination.k8s.io`).join(', ')}. Bind it to the vic-kubelet ClusterRole`,
      ),
      leases.stderr,
    );

    const refused = await vicMachine(
      await createArgs(uniqueName('vm-rbac'), { '--k8s-config': tokenKubeconfig('not-a-token') }),
    );
    t.is(refused.code, 1);
    t.regex(refused.stderr, /refused the credentials of --k8s-config \(401 Unauthorized\)/);
  },
);

test.serial('manifests pass the API server dry run', async (t) => {
  t.timeout(360_000, 'the machine is shared and loaded: vic-machine runs take seconds each');
  const ns = await testNamespace(kubeConfig(), 'vm-manifests');
  t.teardown(() => ns.cleanup());
  const vch = await tlsVch(t);
  const rendered = await vicMachine([
    'manifests',
    '--name',
    'vic-dry-run',
    '--namespace',
    ns.name,
    '--target',
    'tcp://vch.example:2376',
    '--tls-server-cert',
    vch.cert,
    '--node-labels',
    'zone=a',
    '--taint',
    'edge=only:NoSchedule',
  ]);
  t.is(rendered.code, 0, rendered.stderr);
  const applied = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: rendered.stdout });
  t.is(applied.exitCode, 0, applied.stderr);
  for (const object of [
    `namespace/${ns.name}`,
    'serviceaccount/vic-kubelet',
    'clusterrole.rbac.authorization.k8s.io/vic-kubelet',
    'secret/vic-kubelet-vic-dry-run-vch-tls',
    'deployment.apps/vic-kubelet-vic-dry-run',
  ])
    t.regex(
      applied.stdout,
      new RegExp(
        `^${object.replace(/\./g, '\\.')} (created|configured|unchanged) \\(server dry run\\)$`,
        'm',
      ),
    );
});

for (const fault of ['exception', 'rejection'] as const) {
  test.serial(`vic-kubelet exits non-zero after an unhandled ${fault}, saying why`, async (t) => {
    t.timeout(360_000, 'the machine is shared and loaded: vic-machine runs take seconds each');
    const vk = await VicKubelet.start({
      env: {
        NODE_OPTIONS: `--import=${join(testEnv.root, 'test/support/fault-on-signal.mjs')}`,
        VK_TEST_FAULT: fault,
      },
    });
    t.teardown(() => vk.cleanup());
    await vk.waitReady(120_000);
    process.kill(vk.pid ?? 0, 'SIGUSR2');
    const exit = await eventually('vic-kubelet exits', async () => (vk.running ? undefined : vk.stop()), {
      timeoutMs: 10_000,
    });
    t.is(exit, 70);
    const kind = fault === 'exception' ? 'uncaught exception' : 'unhandled rejection';
    t.regex(
      vk.output(),
      new RegExp(`"level":60,.*"msg":"${kind}: exiting so that the supervisor restarts vic-kubelet`),
    );
    t.true(vk.output().includes(`${fault} injected by test/support/fault-on-signal.mjs`));
  });
}
