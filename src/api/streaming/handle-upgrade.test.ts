// Whatever fails while an upgrade is served, the log names the request's path and never its query:
// the query of an exec carries the command and its arguments.
import type { IncomingMessage } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { handleStreamingUpgrade, pathOnly, type AttachUpgrade } from './handle-upgrade.js';

test('an upgrade that fails unexpectedly is logged by its path, without the exec command', async (t) => {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  const headers = {
    connection: 'Upgrade',
    upgrade: 'SPDY/3.1',
    'x-stream-protocol-version': 'v4.channel.k8s.io',
  };
  const req = {
    method: 'POST',
    url: '/exec/ns/web/main?command=sh&command=-c&command=echo%20s3cret-arg&output=1',
    headers,
    headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
  } as unknown as IncomingMessage;
  const handler: AttachUpgrade = {
    kind: 'exec',
    logger,
    onAttach: async () => ({ exitCode: 0 }),
    // Something the transport reads throws: the unexpected failure the catch-all logs.
    get spdy(): never {
      throw new Error('unexpected');
    },
  };
  await handleStreamingUpgrade(req, new PassThrough(), Buffer.alloc(0), handler);
  const failed = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'streaming upgrade failed');
  t.is(failed?.path, '/exec/ns/web/main');
  t.false(lines.join('').includes('s3cret'), lines.join(''));
});

test('pathOnly keeps the path and drops the query', (t) => {
  t.is(pathOnly('/exec/a/b/c?command=ls'), '/exec/a/b/c');
  t.is(pathOnly(undefined), '/');
});
