import { PassThrough } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { formatLogLine, resolveLogFormat, textLogStream } from './log-lines.js';

test('a JSON event becomes one line: time, level, message, then its fields', (t) => {
  const json = JSON.stringify({
    level: 30,
    time: Date.UTC(2026, 0, 2, 14, 2, 3, 120),
    pid: 1,
    hostname: 'h',
    name: 'vic-kubelet',
    msg: 'node ready',
    node: 'vic-a',
    note: 'two words',
  });
  t.is(formatLogLine(json), '14:02:03.120 INFO  node ready node=vic-a note="two words"');
});

test('an error shows its message on the line and its stack below it', (t) => {
  const json = JSON.stringify({
    level: 60,
    time: 0,
    msg: 'uncaught exception',
    err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
  });
  t.is(
    formatLogLine(json),
    '00:00:00.000 FATAL uncaught exception err="boom"\n    Error: boom\n        at x',
  );
});

test('a line that is not JSON passes through unchanged', (t) => {
  t.is(formatLogLine('plain words'), 'plain words');
});

test('pino written through the text stream gives readable lines', async (t) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const logger = pino({ name: 'vic-kubelet' }, textLogStream(out));
  logger.info({ port: 10250 }, 'listening');
  logger.warn('careful');
  await new Promise((resolve) => setImmediate(resolve));
  const lines = text.trimEnd().split('\n');
  t.is(lines.length, 2);
  t.regex(lines[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening port=10250$/);
  t.regex(lines[1] ?? '', /^\d\d:\d\d:\d\d\.\d{3} WARN {2}careful$/);
});

test('auto is text only on a terminal outside a cluster', (t) => {
  t.is(resolveLogFormat('auto', { isTTY: true, inCluster: false }), 'text');
  t.is(resolveLogFormat('auto', { isTTY: false, inCluster: false }), 'json');
  t.is(resolveLogFormat('auto', { isTTY: true, inCluster: true }), 'json');
  t.is(resolveLogFormat('text', { isTTY: false, inCluster: true }), 'text');
});
