import test from 'ava';
import { VicError } from '../../shared/errors.js';
import { parseExecOptions } from './exec-options.js';

test('the kubelet query is parsed into options', (t) => {
  t.deepEqual(
    parseExecOptions('/exec/ns/pod/c?command=sh&command=-c&command=exit%203&input=1&output=1&error=1'),
    {
      command: ['sh', '-c', 'exit 3'],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    },
  );
});

test('a TTY drops stderr', (t) => {
  const options = parseExecOptions(
    new URL('https://node:10250/exec/a/b/c?command=sh&output=1&error=1&tty=1'),
  );
  t.true(options.tty);
  t.false(options.stderr);
});

test('at least one stream is required; only "1" turns one on', (t) => {
  const error = t.throws(() => parseExecOptions('/exec/a/b/c?command=ls&output=true'), {
    instanceOf: VicError,
  });
  t.is(error?.code, 'Invalid');
});
