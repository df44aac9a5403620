import test from 'ava';
import { containerState, dockerTime, repoDigestOf, stopSignalName, type InspectState } from './status.js';

const base: InspectState = {
  Status: 'exited',
  ExitCode: 0,
  Error: '',
  OOMKilled: false,
  StartedAt: '2024-05-01T10:00:00.5Z',
  FinishedAt: '2024-05-01T10:00:03Z',
};

test('an exit 0 is Completed with both times', (t) => {
  t.deepEqual(containerState(base), {
    kind: 'terminated',
    exitCode: 0,
    reason: 'Completed',
    startedAt: new Date('2024-05-01T10:00:00.5Z'),
    finishedAt: new Date('2024-05-01T10:00:03Z'),
  });
});

test('a non-zero exit is Error, an OOM kill is OOMKilled whatever the code', (t) => {
  t.like(containerState({ ...base, ExitCode: 3 }), { kind: 'terminated', exitCode: 3, reason: 'Error' });
  t.like(containerState({ ...base, ExitCode: 137, OOMKilled: true }), { reason: 'OOMKilled', exitCode: 137 });
});

test("a container that could not start is terminated with StartError and Docker's message", (t) => {
  const state = containerState({
    ...base,
    Status: 'created',
    ExitCode: 127,
    Error: 'exec: "/nope": stat /nope: no such file or directory',
    StartedAt: '0001-01-01T00:00:00Z',
  });
  t.like(state, { kind: 'terminated', exitCode: 127, reason: 'StartError' });
  t.regex(state.kind === 'terminated' ? (state.message ?? '') : '', /no such file/);
});

test('created and never started is waiting; running, paused and restarting are running', (t) => {
  t.deepEqual(containerState({ ...base, Status: 'created', StartedAt: '0001-01-01T00:00:00Z' }), {
    kind: 'waiting',
    reason: 'ContainerCreating',
  });
  for (const Status of ['running', 'paused', 'restarting']) {
    t.deepEqual(containerState({ ...base, Status }), {
      kind: 'running',
      startedAt: new Date('2024-05-01T10:00:00.5Z'),
    });
  }
});

test("Docker's zero time means never", (t) => {
  t.is(dockerTime('0001-01-01T00:00:00Z'), undefined);
  t.is(dockerTime(''), undefined);
  t.deepEqual(dockerTime('2024-05-01T10:00:00Z'), new Date('2024-05-01T10:00:00Z'));
});

test('the repo digest is the one that names the container image, else the first, else none', (t) => {
  const digest = `sha256:${'d'.repeat(64)}`;
  t.is(repoDigestOf('vic-test/busybox:latest', []), undefined);
  t.is(
    repoDigestOf('127.0.0.1:15000/vic/busybox:latest', [
      `other/x@${digest}`,
      `127.0.0.1:15000/vic/busybox@${digest}`,
    ]),
    `127.0.0.1:15000/vic/busybox@${digest}`,
  );
  t.is(repoDigestOf('busybox', [`busybox@${digest}`]), `busybox@${digest}`);
  t.is(repoDigestOf('nginx', [`mirror/nginx@${digest}`]), `mirror/nginx@${digest}`);
});

test('the stop signal as Kubernetes spells it: SIGTERM by default, names and numbers from Docker', (t) => {
  t.is(stopSignalName(undefined), 'SIGTERM');
  t.is(stopSignalName(''), 'SIGTERM');
  t.is(stopSignalName('SIGUSR1'), 'SIGUSR1');
  t.is(stopSignalName('quit'), 'SIGQUIT');
  t.is(stopSignalName('9'), 'SIGKILL');
});
