import test from 'ava';
import { firstFileOfTar } from './container-file.js';

function tarOf(name: string, content: string, type = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'ascii');
  header.write(content.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  header.write(type, 156, 'ascii');
  const body = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  body.write(content, 'utf8');
  return Buffer.concat([header, body, Buffer.alloc(1024)]);
}

test('the first regular file of an archive, cut at the limit', (t) => {
  t.is(firstFileOfTar(tarOf('termination-log', 'bye\n'), 4096), 'bye\n');
  t.is(firstFileOfTar(tarOf('termination-log', 'abcdef'), 3), 'abc');
  t.is(firstFileOfTar(Buffer.alloc(1024), 10), undefined);
});

test('directories before the file are skipped', (t) => {
  const dir = tarOf('d/', '', '5');
  t.is(firstFileOfTar(Buffer.concat([dir.subarray(0, 512), tarOf('d/f', 'x')]), 10), 'x');
});
