import test from 'ava';
import { ByteLimit, sinceOf } from './logs.js';

test('limitBytes cuts the output at exactly that many bytes and closes the source once', async (t) => {
  let closed = 0;
  const limit = new ByteLimit(5, () => closed++);
  limit.write(Buffer.from('abc'));
  limit.write(Buffer.from('defgh'));
  limit.write(Buffer.from('ijk'));
  limit.end();
  const chunks: Buffer[] = [];
  for await (const c of limit) chunks.push(c as Buffer);
  t.is(Buffer.concat(chunks).toString(), 'abcde');
  t.is(closed, 1);
});

test('sinceTime wins over sinceSeconds; both become Docker seconds', (t) => {
  const now = Date.parse('2024-05-01T10:00:00Z');
  t.is(sinceOf({ sinceSeconds: 60 }, now), String(now / 1000 - 60) + '.000');
  t.is(sinceOf({ sinceSeconds: 60, sinceTime: new Date(now - 5000) }, now), String(now / 1000 - 5) + '.000');
  t.is(sinceOf({}, now), undefined);
});
