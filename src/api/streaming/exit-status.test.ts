import test from 'ava';
import { encodeExitStatus } from './exit-status.js';

test('v4+: success is a Success status', (t) => {
  t.is(encodeExitStatus({ exitCode: 0 }, 'json')?.toString(), '{"metadata":{},"status":"Success"}');
});

test('v4+: a non-zero exit carries the code as an ExitCode cause', (t) => {
  const status = JSON.parse(
    encodeExitStatus({ exitCode: 3 }, 'json', ['sh', '-c', 'exit 3'])!.toString(),
  ) as unknown;
  t.deepEqual(status, {
    metadata: {},
    status: 'Failure',
    message:
      'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('v4+: a failure to run is an InternalError', (t) => {
  const status = JSON.parse(encodeExitStatus({ error: 'no such container' }, 'json')!.toString()) as Record<
    string,
    unknown
  >;
  t.is(status.reason, 'InternalError');
  t.is(status.code, 500);
  t.is(status.message, 'Internal error occurred: no such container');
});

test('v1-v3: only failures are written, as plain text', (t) => {
  t.is(encodeExitStatus({ exitCode: 0 }, 'text'), undefined);
  t.is(
    encodeExitStatus({ exitCode: 2 }, 'text', ['false'])?.toString(),
    'command terminated with non-zero exit code: error executing command [false], exit code 2',
  );
  t.is(encodeExitStatus({ error: 'boom' }, 'text')?.toString(), 'Internal error occurred: boom');
});
