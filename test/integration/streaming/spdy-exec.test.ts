// exec over SPDY/3.1 against client-go's real SPDY executor (moby/spdystream underneath).
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { peerBinary } from './helpers/peer.js';
import { execThroughPeer, query } from './helpers/exec.js';
import { startStreamingServer, type StreamingServer } from './helpers/server.js';

let server: StreamingServer;

test.before(async (t) => {
  t.timeout(15 * 60_000, 'building the Go peer on a cold cache');
  await peerBinary();
  server = await startStreamingServer();
});

test.after.always(async () => {
  await server?.close();
});

const execUrl = (params: Record<string, string | readonly string[]>): string =>
  `${server.url}/exec/default/pod/container?${query(params)}`;

test('a non-zero exit code reaches the Go executor as its exit error, with stdout and stderr', async (t) => {
  const { run, outcome } = await execThroughPeer(
    execUrl({ command: ['exit', '3'], output: '1', error: '1' }),
    ['--stdout', '--stderr'],
  );
  t.is(outcome.exitCode, 3);
  t.is(outcome.message, 'command terminated with exit code 3');
  t.is(run.stdout.toString(), 'out\n');
  t.is(run.stderr.toString(), 'err\n');
});

test('exit code 0 is a success', async (t) => {
  const { outcome } = await execThroughPeer(execUrl({ command: ['exit', '0'], output: '1' }), ['--stdout']);
  t.deepEqual(outcome, { exitCode: 0 });
});

test('10 MiB of random binary stdin comes back unchanged on stdout', async (t) => {
  const input = randomBytes(10 * 1024 * 1024);
  const { run, outcome } = await execThroughPeer(
    execUrl({ command: 'echo', input: '1', output: '1' }),
    ['--stdin', '--stdout'],
    input,
  );
  t.deepEqual(outcome, { exitCode: 0 });
  t.is(run.stdout.length, input.length);
  t.is(
    createHash('sha256').update(run.stdout).digest('hex'),
    createHash('sha256').update(input).digest('hex'),
  );
});

test('with a TTY, resize events arrive in order', async (t) => {
  const { run, outcome } = await execThroughPeer(
    execUrl({ command: ['resize', '3'], output: '1', tty: '1' }),
    ['--stdout', '--tty', '--resize', '80x24,100x40,132x50'],
  );
  t.deepEqual(outcome, { exitCode: 0 });
  t.is(run.stdout.toString(), '80x24\n100x40\n132x50\n');
});

test('a provider failure is reported as the executor error', async (t) => {
  const { outcome } = await execThroughPeer(
    execUrl({ command: ['fail', 'no such container'], output: '1' }),
    ['--stdout'],
  );
  t.is(outcome.error, 'Internal error occurred: error executing command in container: no such container');
});

for (const protocol of ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io']) {
  test(`protocol ${protocol}: the exit status is encoded for that version`, async (t) => {
    const { run, outcome } = await execThroughPeer(
      execUrl({ command: ['exit', '3'], output: '1', error: '1' }),
      ['--stdout', '--stderr', '--protocols', protocol],
    );
    t.is(run.stdout.toString(), 'out\n');
    if (protocol.startsWith('v4')) {
      t.is(outcome.exitCode, 3);
    } else {
      // Before v4 the status is plain text and client-go can only report it as an error.
      t.is(
        outcome.error,
        'error executing remote command: command terminated with non-zero exit code: error executing command [exit 3], exit code 3',
      );
    }
  });
}

test('protocol channel.k8s.io (v1): output streams work', async (t) => {
  const { run } = await execThroughPeer(execUrl({ command: ['exit', '0'], output: '1', error: '1' }), [
    '--stdout',
    '--stderr',
    '--protocols',
    'channel.k8s.io',
  ]);
  t.is(run.stdout.toString(), 'out\n');
  t.is(run.stderr.toString(), 'err\n');
});

test('no common protocol version: the upgrade is refused with 403', async (t) => {
  const { outcome } = await execThroughPeer(execUrl({ command: 'echo', output: '1' }), [
    '--stdout',
    '--protocols',
    'v9.channel.k8s.io',
  ]);
  t.regex(outcome.error ?? '', /unable to negotiate protocol/);
});

test('attach hands the provider no command', async (t) => {
  const { outcome, run } = await execThroughPeer(
    `${server.url}/attach/default/pod/container?${query({ output: '1', error: '1' })}`,
    ['--stdout', '--stderr'],
  );
  // The fake provider answers an attach (no command) with exit code 127.
  t.is(outcome.exitCode, 127);
  t.is(run.stdout.toString(), '');
});
