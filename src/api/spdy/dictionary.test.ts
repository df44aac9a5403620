import test from 'ava';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY, SPDY3_DICTIONARY_LENGTH } from './dictionary.js';

function adler32(bytes: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

test('the dictionary is the 1423 bytes of the SPDY/3 draft', (t) => {
  t.is(SPDY3_DICTIONARY.length, 1423);
  t.is(SPDY3_DICTIONARY_LENGTH, 1423);
  // The Adler-32 every SPDY/3 implementation puts in its zlib header as DICTID.
  t.is(adler32(SPDY3_DICTIONARY), 0xe3c6a7c2);
});

test('zlib announces the dictionary by its Adler-32', (t) => {
  const compressed = zlib.deflateSync(Buffer.from('streamtype'), { dictionary: SPDY3_DICTIONARY });
  t.is(compressed[1]! & 0x20, 0x20, 'FDICT flag set');
  t.is(compressed.readUInt32BE(2), 0xe3c6a7c2);
});

test('the dictionary starts with length-prefixed words and ends with the text tail', (t) => {
  t.is(SPDY3_DICTIONARY.readUInt32BE(0), 7);
  t.is(SPDY3_DICTIONARY.toString('latin1', 4, 11), 'options');
  t.true(SPDY3_DICTIONARY.toString('latin1').endsWith('charset=iso-8859-1,utf-,*,enq=0.'));
});
