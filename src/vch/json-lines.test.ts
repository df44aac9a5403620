import { PassThrough } from 'node:stream';
import test from 'ava';
import { onLines } from './json-lines.js';

test('lines split across chunks arrive whole; empty lines are skipped', (t) => {
  const stream = new PassThrough();
  const lines: string[] = [];
  onLines(stream, (line) => lines.push(line));
  stream.write('{"a":1}\n{"b"');
  stream.write(':2}\n\n  \n{"c":3}');
  stream.write('\n');
  t.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
});
