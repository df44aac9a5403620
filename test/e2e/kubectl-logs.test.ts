// kubectl logs through the real API server to vic-kubelet: follow until the container stops, tail,
// since, timestamps, limit-bytes, a container of a multi-container pod, and the previous container
// after a restart; follow with the newest kubectl and with kubectl 1.27.
import test from 'ava';
import { eventually, kubectl } from '../support/env.js';
import {
  allRunning,
  containerStatus,
  createPod,
  kubectlVersions,
  podOn,
  podWhere,
  shell,
} from '../support/pods.js';
import { startKubectl } from '../support/pty.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const node = virtualNodeForFile(test, 'vk-logs');

const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);

const running = async (name: string): Promise<void> => void (await allRunning(node.ns, name));

/** `kubectl logs` that must succeed; its stdout. */
async function logs(args: string[], version?: string): Promise<string> {
  const result = await kubectl(['logs', '-n', node.ns, ...args], { version });
  if (result.exitCode !== 0) {
    throw new Error(
      `kubectl logs ${args.join(' ')}: exit ${result.exitCode}: ${result.stderr}\n${node.vk.output().slice(-3000)}`,
    );
  }
  return result.stdout;
}

async function touch(pod: string, file: string): Promise<void> {
  const result = await kubectl(['exec', '-n', node.ns, pod, '--', 'touch', file]);
  if (result.exitCode !== 0) throw new Error(`touch ${file} in ${pod}: ${result.stderr}`);
}

/** Blocks until a file exists inside the container. */
const waitFor = (file: string) => `while [ ! -f ${file} ]; do sleep 0.2; done`;

const RFC3339_NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

for (const { label, version, suffix } of kubectlVersions) {
  test(`${label}: logs -f shows lines written after it started and ends when the container stops`, async (t) => {
    const name = `follow-${suffix}`;
    await createPod(
      node.ns,
      name,
      on({
        restartPolicy: 'Never',
        containers: [
          shell('main', `echo first; ${waitFor('/tmp/go')}; echo second; ${waitFor('/tmp/stop')}; echo last`),
        ],
      }),
    );
    await running(name);
    const follow = startKubectl(['logs', '-f', '-n', node.ns, name], { version });
    t.teardown(() => follow.kill('SIGKILL'));
    await follow.until('first\n');
    t.false(follow.stdout.toString().includes('second'));
    await touch(name, '/tmp/go');
    await follow.until('second\n');
    t.true(follow.running, 'still following while the container runs');
    await touch(name, '/tmp/stop');
    const exit = await follow.exit();
    t.is(exit.code, 0, follow.describe());
    t.is(follow.stdout.toString(), 'first\nsecond\nlast\n');
  });
}

test('--tail, --limit-bytes and --timestamps', async (t) => {
  const started = Date.now();
  await createPod(node.ns, 'lines', on({ containers: [shell('main', 'seq 1 10; sleep 3600')] }));
  await running('lines');
  const all = await logs(['lines']);
  t.is(all, '1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n');

  t.is(await logs(['lines', '--tail=3']), '8\n9\n10\n');
  t.is(await logs(['lines', '--tail=0']), '');
  t.is(await logs(['lines', '--limit-bytes=5']), '1\n2\n3');

  const stamped = (await logs(['lines', '--timestamps', '--tail=2'])).split('\n');
  t.is(stamped.pop(), '', 'ends with a newline');
  t.is(stamped.length, 2);
  for (const [i, line] of stamped.entries()) {
    const [stamp = '', text] = line.split(' ');
    t.regex(stamp, RFC3339_NANO, line);
    t.is(text, String(9 + i));
    const at = Date.parse(stamp);
    t.true(at >= started - 5_000 && at <= Date.now(), `${stamp} is when the line was written`);
  }
});

test('--since and --since-time keep only the lines written after that moment', async (t) => {
  await createPod(
    node.ns,
    'gap',
    on({ containers: [shell('main', 'echo old; sleep 6; echo new; sleep 3600')] }),
  );
  await running('gap');
  const stamped = await eventually('the line "new"', async () => {
    const text = await logs(['gap', '--timestamps']);
    return text.includes(' new\n') ? text : undefined;
  });
  const times = Object.fromEntries(
    stamped
      .trim()
      .split('\n')
      .map((line) => {
        const [stamp = '', text = ''] = line.split(' ');
        return [text, Date.parse(stamp)];
      }),
  ) as Record<'old' | 'new', number>;
  t.true(times.new - times.old >= 5_000, stamped);

  // A window that reaches back past "new" but not to "old", about 6 s earlier.
  const since = Math.ceil((Date.now() - times.new) / 1000) + 4;
  t.is(await logs(['gap', `--since=${since}s`]), 'new\n');
  t.is(await logs(['gap', '--since=1h']), 'old\nnew\n');

  const between = new Date((times.old + times.new) / 2).toISOString().replace(/\.\d+Z$/, 'Z');
  t.is(await logs(['gap', `--since-time=${between}`]), 'new\n');
});

test('-c picks a container of a multi-container pod', async (t) => {
  await createPod(
    node.ns,
    'two',
    on({ containers: [shell('a', 'echo from-a; sleep 3600'), shell('b', 'echo from-b; sleep 3600')] }),
  );
  await running('two');
  t.is(await logs(['two', '-c', 'a']), 'from-a\n');
  t.is(await logs(['two', '-c', 'b']), 'from-b\n');
  // kubectl reads the containers in no fixed order (it ranges over a Go map): the lines, in any order.
  const all = (await logs(['two', '--all-containers', '--prefix'])).split('\n').filter(Boolean).sort();
  t.deepEqual(all, ['[pod/two/a] from-a', '[pod/two/b] from-b']);
  const unknown = await kubectl(['logs', '-n', node.ns, 'two', '-c', 'nope']);
  t.not(unknown.exitCode, 0);
  t.regex(unknown.stderr, /nope/);
});

test('--previous shows the container that ran before the restart', async (t) => {
  await createPod(
    node.ns,
    'restarts',
    on({
      restartPolicy: 'Always',
      containers: [
        shell('main', `echo run-$(cat /proc/sys/kernel/random/uuid); ${waitFor('/tmp/stop')}; exit 1`),
      ],
    }),
  );
  await running('restarts');
  const first = (await logs(['restarts'])).trim();
  t.regex(first, /^run-[0-9a-f-]{36}$/);
  const noPrevious = await kubectl(['logs', '-n', node.ns, 'restarts', '--previous']);
  t.not(noPrevious.exitCode, 0, 'nothing ran before the first container');

  await touch('restarts', '/tmp/stop');
  const restarted = await podWhere(
    node.ns,
    'restarts',
    'restarted and running again',
    (p) => {
      const status = containerStatus(p, 'main');
      return status?.restartCount === 1 && status.state?.running !== undefined;
    },
    90_000,
  );
  t.is(containerStatus(restarted, 'main')?.lastState?.terminated?.exitCode, 1);
  t.is(await logs(['restarts', '--previous']), `${first}\n`);
  const second = (await logs(['restarts'])).trim();
  t.regex(second, /^run-[0-9a-f-]{36}$/);
  t.not(second, first);
});
