// kubectl exec, attach, run -i and cp through the real API server to vic-kubelet, with the newest kubectl
// (WebSocket, passed straight to vic-kubelet since the node declares ExtendWebSocketsToKubelet) and with
// kubectl 1.27 (SPDY all the way): separate stdout and stderr, the command's exit code as kubectl's, an
// interactive shell in a real pseudo-terminal that follows resizes, 10 MiB of binary stdin, attach to a
// reading container; and an exec from @kubernetes/client-node over WebSocket.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, kubectl, testEnv } from '../support/env.js';
import { loggedUpgrades } from '../support/kubelet-client.js';
import { allRunning, createPod, kubectlVersions, podOn, shell } from '../support/pods.js';
import { virtualNodeForFile } from '../support/virtual-node.js';
import { startKubectl, startKubectlInPty } from '../support/pty.js';

// Debug level: the log says which transport each streaming upgrade arrived on.
const node = virtualNodeForFile(test, 'vk-exec', { args: ['--log-level', 'debug'] });

const running = async (name: string): Promise<void> => void (await allRunning(node.ns, name));

test.serial.before(async () => {
  const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);
  await createPod(node.ns, 'target', on({ containers: [shell('main', 'sleep 3600')] }));
  await createPod(node.ns, 'transport', on({ containers: [shell('main', 'sleep 3600')] }));
  for (const { suffix } of kubectlVersions) {
    await createPod(
      node.ns,
      `reader-${suffix}`,
      on({
        containers: [shell('main', 'while read l; do echo got:$l; done', { stdin: true })],
      }),
    );
  }
  // One pod per client with ten TTY containers, each reading one line, answering and exiting at once.
  for (const { suffix } of kubectlVersions) {
    await createPod(
      node.ns,
      `tty-last-${suffix}`,
      on({ restartPolicy: 'Never', containers: ttyTries.map((name) => ttyAnswerer(name)) }),
    );
  }
  await Promise.all(
    [
      'target',
      'transport',
      ...kubectlVersions.map(({ suffix }) => `reader-${suffix}`),
      ...kubectlVersions.map(({ suffix }) => `tty-last-${suffix}`),
    ].map(running),
  );
});

const ttyTries = Array.from({ length: 10 }, (_, i) => `try${i}`);
const ttyAnswerer = (name: string) => shell(name, 'read l; echo got:$l', { stdin: true, tty: true });

const warningLines = (output: string): string =>
  output
    .split('\n')
    .filter((l) => l.includes('Warning'))
    .join('\n');

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

for (const { label, version, suffix } of kubectlVersions) {
  test(`${label}: exec keeps stdout and stderr apart and exits with the command's exit code`, async (t) => {
    const failed = await kubectl(
      ['exec', '-n', node.ns, 'target', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'],
      { version },
    );
    t.is(failed.exitCode, 3, failed.stderr);
    t.is(failed.stdout, 'out\n');
    t.true(failed.stderr.startsWith('err\n'), failed.stderr);
    t.false(failed.stderr.includes('out'));

    const ok = await kubectl(['exec', '-n', node.ns, 'target', '--', 'sh', '-c', 'echo fine'], { version });
    t.is(ok.exitCode, 0, ok.stderr);
    t.is(ok.stdout, 'fine\n');
    t.is(ok.stderr, '');
  });

  test(`${label}: exec -i passes 10 MiB of random binary stdin through cat unchanged`, async (t) => {
    const data = randomBytes(10 * 1024 * 1024);
    const cat = startKubectl(['exec', '-i', '-n', node.ns, 'target', '--', 'cat'], { version });
    t.teardown(() => cat.kill('SIGKILL'));
    cat.end(data);
    const exit = await cat.exit(120_000);
    t.is(exit.code, 0, cat.stderr);
    t.is(cat.stdout.length, data.length);
    t.is(sha256(cat.stdout), sha256(data));
  });

  test(`${label}: exec -it runs a shell in a terminal that follows the caller's size and returns its exit code`, async (t) => {
    const session = startKubectlInPty(['exec', '-it', '-n', node.ns, 'target', '--', 'sh'], {
      version,
      rows: 33,
      cols: 101,
    });
    t.teardown(() => session.kill('SIGKILL'));
    await session.until('# ');
    session.write('tty; stty size\r');
    await session.until(/\r\n33 101\r\n/);
    t.regex(session.stdout.toString(), /\r\n\/dev\/pts\/\d+\r\n/, 'stdin is a terminal in the container');

    // The user resizes the window: the shell in the container sees the new size.
    await session.resize(40, 120);
    await eventually('the new terminal size in the container', async () => {
      session.write('stty size\r');
      return /\r\n40 120\r\n/.test(session.stdout.toString()) ? true : undefined;
    });
    session.write('exit 5\r');
    const exit = await session.exit();
    t.is(exit.code, 5, session.describe());
  });

  test(`${label}: attach -i talks to the main process of a running container`, async (t) => {
    const attach = startKubectl(['attach', '-i', '-n', node.ns, `reader-${suffix}`], { version });
    t.teardown(() => attach.kill('SIGKILL'));
    attach.write('hello\n');
    await attach.until('got:hello\n');
    attach.write('again\n');
    await attach.until('got:hello\ngot:again\n');
    await attach.stop();
    // The container lives on: a second attach reaches the same process.
    const second = startKubectl(['attach', '-i', '-n', node.ns, `reader-${suffix}`], { version });
    t.teardown(() => second.kill('SIGKILL'));
    second.write('third\n');
    t.true((await second.until('got:third\n')).endsWith('got:third\n'));
    await second.stop();
  });

  test(`${label}: attach -i to a TTY container that answers and exits at once delivers the answer, 10 of 10 times`, async (t) => {
    t.timeout(3 * 60_000);
    const pod = `tty-last-${suffix}`;
    const outputs: string[] = [];
    for (const container of ttyTries) {
      // stdin ends right after the line: the process's answer comes after the client's end of input.
      const attach = await kubectl(['attach', '-i', '-n', node.ns, pod, '-c', container], {
        version,
        input: 'hello\n',
        timeoutMs: 30_000,
      });
      outputs.push(`${container}: exit ${attach.exitCode} ${JSON.stringify(attach.stdout)}`);
    }
    const delivered = outputs.filter((o) => o.includes('got:hello'));
    t.is(delivered.length, ttyTries.length, outputs.join('\n'));
  });

  test(`${label}: 20 execs with a lot of output leave no MaxListenersExceededWarning in vic-kubelet's output`, async (t) => {
    t.timeout(3 * 60_000);
    for (let i = 0; i < 20; i++) {
      // Many small frames: the output outpaces the client, so every stream waits for room.
      const many = await kubectl(['exec', '-n', node.ns, 'target', '--', 'seq', '1', '100000'], {
        version,
      });
      t.is(many.exitCode, 0, many.stderr);
      t.is(many.stdout.split('\n').length, 100_001);
    }
    t.false(node.vk.output().includes('MaxListenersExceededWarning'), warningLines(node.vk.output()));
  });

  test(`${label}: run -i --rm attaches, shows the output once, returns the exit code and removes the pod`, async (t) => {
    const name = `run-${suffix}`;
    const { nodeSelector, tolerations } = podOn(node.vk.nodeName, { containers: [] });
    const run = await kubectl(
      [
        'run',
        '-n',
        node.ns,
        name,
        '-i',
        '--rm',
        '--restart=Never',
        `--image=${testEnv.busyboxImage}`,
        '--image-pull-policy=IfNotPresent',
        `--overrides=${JSON.stringify({ spec: { nodeSelector, tolerations } })}`,
        '--',
        'sh',
        '-c',
        'read l; echo got:$l; exit 6',
      ],
      { version, input: 'hello\n', timeoutMs: 120_000 },
    );
    t.is(run.exitCode, 6, run.stderr);
    t.is(run.stdout.split('got:hello').length, 2, `the output once: ${run.stdout}`);
    t.false(run.stderr.includes("couldn't attach"), run.stderr);
    t.regex(run.stderr, new RegExp(`pod ${node.ns}/${name} terminated \\(Error\\)`));
    await eventually(`pod ${name} removed`, async () => {
      const got = await kubectl(['get', 'pod', '-n', node.ns, name]);
      return /NotFound/.test(got.stderr) ? true : undefined;
    });
  });

  test(`${label}: cp copies a binary file into the container and back unchanged`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vk-cp-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const data = randomBytes(3 * 1024 * 1024);
    writeFileSync(join(dir, 'in.bin'), data);
    const up = await kubectl(['cp', join(dir, 'in.bin'), `${node.ns}/target:/tmp/cp-${suffix}.bin`], {
      version,
    });
    t.is(up.exitCode, 0, up.stderr);
    const down = await kubectl(['cp', `${node.ns}/target:/tmp/cp-${suffix}.bin`, join(dir, 'out.bin')], {
      version,
    });
    t.is(down.exitCode, 0, down.stderr);
    t.is(sha256(readFileSync(join(dir, 'out.bin'))), sha256(data));
  });
}

/** A Writable that keeps what it is given. */
function collector(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('@kubernetes/client-node Exec: stdin, stdout, stderr and the exit status over WebSocket', async (t) => {
  const exec = new k8s.Exec(kubeConfig());
  const run = async (command: string[], stdin: Readable | null) => {
    const stdout = collector();
    const stderr = collector();
    let status: k8s.V1Status | undefined;
    const ws = await exec.exec(
      node.ns,
      'target',
      'main',
      command,
      stdout.stream,
      stderr.stream,
      stdin,
      false,
      (s) => {
        status = s;
      },
    );
    await once(ws, 'close');
    return { stdout: stdout.text(), stderr: stderr.text(), status };
  };

  const failed = await run(
    ['sh', '-c', 'cat; echo " and out"; echo to-err >&2; exit 7'],
    Readable.from([Buffer.from('from stdin')]),
  );
  t.is(failed.stdout, 'from stdin and out\n');
  t.is(failed.stderr, 'to-err\n');
  t.like(failed.status, {
    status: 'Failure',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '7' }] },
  });

  const ok = await run(['echo', 'hi'], null);
  t.is(ok.stdout, 'hi\n');
  t.is(ok.status?.status, 'Success');
});

test('the node declares ExtendWebSocketsToKubelet: kubectl 1.37 reaches vic-kubelet over WebSocket, 1.27 over SPDY', async (t) => {
  const declared = await kubectl([
    'get',
    'node',
    node.vk.nodeName,
    '-o',
    'jsonpath={.status.declaredFeatures}',
  ]);
  t.deepEqual(JSON.parse(declared.stdout), ['ExtendWebSocketsToKubelet']);

  const path = `/exec/${node.ns}/transport/main`;
  const upgrades = () => loggedUpgrades(node.vk.output()).filter((u) => u.path === path);
  const newest = await kubectl(['exec', '-n', node.ns, 'transport', '--', 'sh', '-c', 'exit 4']);
  t.is(newest.exitCode, 4, newest.stderr);
  const [first] = upgrades();
  t.is(upgrades().length, 1);
  t.like(first, { kind: 'exec', transport: 'websocket' });
  t.true(first?.offered.includes('v5.channel.k8s.io'), JSON.stringify(first));

  const old = await kubectl(['exec', '-n', node.ns, 'transport', '--', 'sh', '-c', 'exit 4'], {
    version: '1.27',
  });
  t.is(old.exitCode, 4, old.stderr);
  const [, second] = upgrades();
  t.is(upgrades().length, 2);
  t.is(second?.transport, 'spdy');
  t.true(second?.offered.includes('v4.channel.k8s.io'), JSON.stringify(second));
});
