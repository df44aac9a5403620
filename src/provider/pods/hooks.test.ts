import test from 'ava';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { FakeClock } from '../../shared/fake-clock.js';
import { silentLogger } from '../../shared/logger.js';
import { Hooks } from './hooks.js';
import type { ExecInContainer } from './probes/runners.js';

const pod: V1Pod = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };

function hooks(exitCode: number, output = ''): { hooks: Hooks; commands: string[][]; targets: string[] } {
  const commands: string[][] = [];
  const targets: string[] = [];
  const exec: ExecInContainer = (target, command, io) => {
    commands.push(command);
    targets.push(target.containerId ?? '(looked up)');
    io.stdout.write(output);
    return Promise.resolve({ exitCode });
  };
  return { hooks: new Hooks({ exec, clock: new FakeClock(0), logger: silentLogger }), commands, targets };
}

const withPostStart = (command: string[]): V1Container => ({
  name: 'main',
  image: 'i',
  lifecycle: { postStart: { exec: { command } } },
});

const at = { containerId: 'c0ffee', podIP: '10.0.0.2' };

test('a postStart exec hook that succeeds reports nothing; it runs in the container by its ID', async (t) => {
  const h = hooks(0);
  t.is(await h.hooks.postStart(pod, withPostStart(['touch', '/tmp/x']), at), undefined);
  t.deepEqual(h.commands, [['touch', '/tmp/x']]);
  // The ID lets the exec skip the lookup of the pod's containers (the engine's lean path).
  t.deepEqual(h.targets, ['c0ffee']);
});

test('a failed postStart exec hook names the container and pod, with the output, never the command', async (t) => {
  const h = hooks(7, 'no database\n');
  const message = await h.hooks.postStart(pod, withPostStart(['sh', '-c', 'secret-token-abc; exit 7']), at);
  t.is(
    message,
    'Exec lifecycle hook for Container "main" in Pod "web_ns(u1)" failed - error: command exited with a non-zero code, message: "no database\\n"',
  );
  t.false(message?.includes('secret-token-abc'));
});

test('a preStop sleep hook waits its seconds, at most the budget, on the clock', async (t) => {
  const clock = new FakeClock(0);
  const h = new Hooks({ exec: () => Promise.resolve({ exitCode: 0 }), clock, logger: silentLogger });
  let done = false;
  const running = h
    .preStop(
      pod,
      { name: 'main', image: 'i', lifecycle: { preStop: { sleep: { seconds: 10 } } } },
      'c0ffee',
      3000,
    )
    .then(() => (done = true));
  clock.advance(2999);
  await Promise.resolve();
  t.false(done);
  clock.advance(1);
  await running;
  t.true(done);
});
