// `kubectl debug` against pods on the virtual node. In the shared layout the debug container really
// starts: it joins the pod's network and IPC namespaces (and, with --target, the target container's
// PID namespace), `kubectl debug -it` reaches its shell, and it has status, logs and exec like any
// container. In the vm-per-pod layout (the VIC contract proxy) there are no namespaces to join: the
// debug container is reported waiting with CreateContainerError and a message that says why, and an
// event names it.
import test from 'ava';
import { kubectl, testEnv } from '../support/env.js';
import { allRunning, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { startKubectlInPty } from '../support/pty.js';
import { vicProxyForFile } from '../support/vic-proxy.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-ephemeral');
const vic = vicProxyForFile(test, testEnv.dockerHost);
const vicNode = virtualNodeForFile(test, 'vk-ephemeral-vic', { args: ['--vch', vic.endpoint] });

const debugStatus = (pod: Awaited<ReturnType<typeof podWhere>>, name: string) =>
  pod.status?.ephemeralContainerStatuses?.find((s) => s.name === name);

/** A namespace's identity (`net:[4026532...]`) as a container of the pod sees it. */
async function namespaceOf(ns: string, pod: string, container: string, kind: string): Promise<string> {
  const r = await kubectl([
    'exec',
    '-n',
    ns,
    pod,
    '-c',
    container,
    '--',
    'readlink',
    `/proc/self/ns/${kind}`,
  ]);
  if (r.exitCode !== 0) throw new Error(`readlink in ${container}: ${r.stderr}`);
  return r.stdout.trim();
}

test.serial(
  'kubectl debug -it --target reaches a shell in the pod: its network, IPC and PID namespaces',
  async (t) => {
    await createPod(
      node.ns,
      'target',
      podOn(node.vk.nodeName, { containers: [shell('main', 'sleep 3600')] }),
    );
    await allRunning(node.ns, 'target');
    const session = startKubectlInPty([
      'debug',
      '-it',
      '-n',
      node.ns,
      'target',
      `--image=${testEnv.busyboxImage}`,
      '--image-pull-policy=IfNotPresent',
      '--target=main',
      '-c',
      'dbg',
      '--',
      'sh',
    ]);
    t.teardown(() => session.kill('SIGKILL'));
    // The shell answers: arithmetic the terminal's echo of the command cannot contain.
    session.write('echo shell-$((40+2))\r');
    await session.until(/shell-42\r\n/, { timeoutMs: 90_000 });

    const pod = await podWhere(
      node.ns,
      'target',
      'dbg running',
      (p) => !!debugStatus(p, 'dbg')?.state?.running,
    );
    const status = debugStatus(pod, 'dbg');
    t.regex(status?.containerID ?? '', /^docker:\/\/[0-9a-f]{64}$/);
    t.is(status?.restartCount, 0);
    t.is(pod.status?.phase, 'Running');

    // The debug container sits in the pod's network and IPC namespaces, and in main's PID namespace.
    for (const kind of ['net', 'ipc', 'pid']) {
      t.is(
        await namespaceOf(node.ns, 'target', 'dbg', kind),
        await namespaceOf(node.ns, 'target', 'main', kind),
        `${kind} namespace shared with main`,
      );
    }
    // ...so the shell sees main's process.
    session.write('ps -o args | grep -c "^sleep 3600"\r');
    await session.until(/\r\n1\r\n/);

    // Exec and logs work as for any container (a TTY container's log is what its terminal showed).
    const exec = await kubectl(['exec', '-n', node.ns, 'target', '-c', 'dbg', '--', 'echo', 'exec-ok']);
    t.is(exec.stdout, 'exec-ok\n', exec.stderr);
    const logs = await kubectl(['logs', '-n', node.ns, 'target', '-c', 'dbg']);
    t.regex(logs.stdout, /shell-42/, logs.stderr);

    // The shell ends: the debug container is terminated with its exit code and never restarted.
    session.write('exit 3\r');
    // kubectl ends with 0: an attach reports Success on its error stream whatever the process's exit
    // code, as the kubelet's streaming server does (ServeAttach); the code is in the status.
    t.is((await session.exit()).code, 0, session.describe());
    const ended = await podWhere(
      node.ns,
      'target',
      'dbg terminated',
      (p) => !!debugStatus(p, 'dbg')?.state?.terminated,
    );
    t.is(debugStatus(ended, 'dbg')?.state?.terminated?.exitCode, 3);
    t.is(debugStatus(ended, 'dbg')?.restartCount, 0);
    t.is(ended.status?.phase, 'Running');
    const events = await podEvents(node.ns, 'target');
    t.true(
      events.some(
        (e) => e.reason === 'Started' && e.involvedObject.fieldPath === 'spec.ephemeralContainers{dbg}',
      ),
    );
  },
);

test.serial(
  'vm-per-pod: the debug container is refused with the reason and an event; the pod runs on',
  async (t) => {
    await createPod(
      vicNode.ns,
      'target',
      podOn(vicNode.vk.nodeName, { containers: [shell('main', 'sleep 3600')] }),
    );
    // The vm-per-pod node starts a container VM per pod through the proxy: slower on a loaded machine.
    await podWhere(
      vicNode.ns,
      'target',
      'main running',
      (p) => !!p.status?.containerStatuses?.[0]?.state?.running,
      180_000,
    );
    const debug = await kubectl([
      'debug',
      '-n',
      vicNode.ns,
      'target',
      `--image=${testEnv.busyboxImage}`,
      '--image-pull-policy=IfNotPresent',
      '-c',
      'dbg',
      '--',
      'sleep',
      '60',
    ]);
    t.is(debug.exitCode, 0, debug.stderr);
    const pod = await podWhere(
      vicNode.ns,
      'target',
      'dbg waiting',
      (p) => !!debugStatus(p, 'dbg')?.state?.waiting,
    );
    const waiting = debugStatus(pod, 'dbg')?.state?.waiting;
    t.is(waiting?.reason, 'CreateContainerError');
    t.regex(
      waiting?.message ?? '',
      /^ephemeral containers need the pod's namespaces, which this node cannot share: .*vm-per-pod/,
    );
    t.is(pod.status?.phase, 'Running');
    const events = await podEvents(vicNode.ns, 'target');
    t.true(
      events.some(
        (e) =>
          e.type === 'Warning' &&
          e.reason === 'Failed' &&
          e.involvedObject.fieldPath === 'spec.ephemeralContainers{dbg}' &&
          (e.message ?? '').startsWith('Error: ephemeral containers need'),
      ),
    );
    // Nothing was asked of the VCH that VIC lacks.
    t.deepEqual(vic.proxy.refused, []);
  },
);
