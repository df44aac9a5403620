import test from 'ava';
import { formatBytes, formatMilliCpu, parseMilliCpu, parseQuantity } from './quantity.js';

test('parses decimal, binary and exponent forms', (t) => {
  t.is(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
  t.is(parseQuantity('128974848'), 128974848);
  t.is(parseQuantity('129e6'), 129e6);
  t.is(parseQuantity('123Mi'), 123 * 2 ** 20);
  t.is(parseQuantity('2k'), 2000);
});

test('cpu is counted in millicores, rounded up', (t) => {
  t.is(parseMilliCpu('500m'), 500);
  t.is(parseMilliCpu('2'), 2000);
  t.is(parseMilliCpu('0.1'), 100);
  t.is(parseMilliCpu('100001u'), 101);
  t.is(formatMilliCpu(2000), '2');
  t.is(formatMilliCpu(1500), '1500m');
});

test('bytes are printed with the largest exact binary suffix', (t) => {
  t.is(formatBytes(8 * 2 ** 30), '8Gi');
  t.is(formatBytes(1536 * 2 ** 20), '1536Mi');
  t.is(formatBytes(1000), '1000');
});

test('a malformed quantity is rejected with the text in the message', (t) => {
  t.throws(() => parseQuantity('12 cores'), { message: /"12 cores" is not a Kubernetes quantity/ });
  t.throws(() => parseQuantity('1.5Xi'));
});
