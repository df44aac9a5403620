import { EventEmitter } from 'node:events';
import test from 'ava';
import { pino } from 'pino';
import { crashExitCode, guardProcess } from './process-guard.js';

function guarded(stop: () => Promise<void> = async () => undefined) {
  const target = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  let stops = 0;
  guardProcess({
    logger,
    target: target as unknown as NodeJS.Process,
    exit: (code) => exits.push(code),
    stop: async () => {
      stops += 1;
      await stop();
    },
  });
  return { target, exits, lines, stops: () => stops };
}

test('an uncaught exception is logged and the process exits non-zero', (t) => {
  const g = guarded();
  g.target.emit('uncaughtException', new Error('boom'));
  t.deepEqual(g.exits, [crashExitCode]);
  const event = JSON.parse(g.lines[0] ?? '{}') as { level: number; msg: string; err: { message: string } };
  t.is(event.level, 60);
  t.regex(event.msg, /^uncaught exception: exiting so that the supervisor restarts/);
  t.is(event.err.message, 'boom');
});

test('an unhandled rejection also exits non-zero', (t) => {
  const g = guarded();
  g.target.emit('unhandledRejection', new Error('lost'));
  t.deepEqual(g.exits, [crashExitCode]);
});

test('SIGTERM stops the daemon once and exits 0', async (t) => {
  const g = guarded();
  g.target.emit('SIGTERM');
  g.target.emit('SIGINT');
  await new Promise((resolve) => setImmediate(resolve));
  t.is(g.stops(), 1);
  t.deepEqual(g.exits, [0]);
});

test('a stop that fails exits 1', async (t) => {
  const g = guarded(async () => {
    throw new Error('server would not close');
  });
  g.target.emit('SIGINT');
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(g.exits, [1]);
});
