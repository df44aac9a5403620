import test from 'ava';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { GoAwayStatus, RstStatus } from './frames.js';
import {
  HeaderCodec,
  parseNameValueBlock,
  serializeNameValueBlock,
  type HeaderInput,
} from './header-codec.js';
import { StreamProtocolError } from '../transport/protocol-error.js';

const blocks: HeaderInput[] = [
  { streamtype: 'error', port: '80', requestid: '0' },
  { streamtype: 'data', port: '80', requestid: '0' },
  { streamtype: 'stdout', 'x-multi': ['a', 'b', 'c'] },
  {},
];

test('name/value blocks round-trip through one zlib context per direction', async (t) => {
  const sender = new HeaderCodec();
  const receiver = new HeaderCodec();
  const compressed = await Promise.all(blocks.map((headers) => sender.encode(headers)));
  for (const [index, block] of compressed.entries()) {
    const expected = Object.fromEntries(
      Object.entries(blocks[index]!).map(([name, value]) => [
        name,
        typeof value === 'string' ? [value] : value,
      ]),
    );
    t.deepEqual(await receiver.decode(block, 1), expected);
  }
  // Each block ends with the SYNC_FLUSH marker, so it decodes without the next one.
  for (const block of compressed) t.is(block.subarray(-4).toString('hex'), '0000ffff');
  sender.close();
  receiver.close();
});

test('later blocks depend on the shared context: decoded alone they fail', async (t) => {
  const sender = new HeaderCodec();
  await sender.encode(blocks[0]!);
  const second = await sender.encode(blocks[0]!);
  const fresh = new HeaderCodec();
  const error = await t.throwsAsync(fresh.decode(second, 3), { instanceOf: StreamProtocolError });
  t.deepEqual(error?.reaction, { kind: 'goaway', status: GoAwayStatus.ProtocolError });
  sender.close();
  fresh.close();
});

test('the first block carries the SPDY/3 dictionary id', async (t) => {
  const first = await new HeaderCodec().encode({ streamtype: 'error' });
  t.is(first.readUInt32BE(2), 0xe3c6a7c2);
  // Any zlib that knows the dictionary reads it (the inflate of another implementation, here Node's).
  const raw = zlib.inflateSync(first, {
    dictionary: SPDY3_DICTIONARY,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  t.deepEqual(parseNameValueBlock(raw, 1), { streamtype: ['error'] });
});

test('names are written in lower case and values joined by NUL', (t) => {
  const raw = serializeNameValueBlock({ StreamType: 'data', Port: ['80', '81'] });
  t.deepEqual(parseNameValueBlock(raw, 1), { streamtype: ['data'], port: ['80', '81'] });
  t.true(raw.includes(Buffer.from('80\u000081')));
});

test('a malformed block is a stream error (RST_STREAM PROTOCOL_ERROR)', (t) => {
  const cases: [string, Buffer][] = [
    ['truncated', Buffer.from('000000010000', 'hex')],
    ['upper-case name', serializeRaw([['Port', '80']])],
    [
      'duplicate name',
      serializeRaw([
        ['port', '80'],
        ['port', '81'],
      ]),
    ],
    ['empty name', serializeRaw([['', 'x']])],
    ['trailing bytes', Buffer.concat([serializeRaw([['port', '80']]), Buffer.from([0])])],
  ];
  for (const [name, raw] of cases) {
    const error = t.throws(() => parseNameValueBlock(raw, 7), { instanceOf: StreamProtocolError }, name);
    t.is(error?.reason, 'BadHeaderBlock', name);
    t.deepEqual(error?.reaction, { kind: 'rst-stream', streamId: 7, status: RstStatus.ProtocolError }, name);
  }
});

test('bytes that are not zlib end the session (GOAWAY)', async (t) => {
  const codec = new HeaderCodec();
  const error = await t.throwsAsync(codec.decode(Buffer.from('deadbeefdeadbeef', 'hex'), 1), {
    instanceOf: StreamProtocolError,
  });
  t.is(error?.reason, 'BadCompression');
  t.is(error?.reaction.kind, 'goaway');
  codec.close();
});

test('a block that inflates past the limit ends the session', async (t) => {
  const sender = new HeaderCodec();
  const receiver = new HeaderCodec({ maxHeaderBlockSize: 1024 });
  const bomb = await sender.encode({ padding: 'x'.repeat(100_000) });
  t.true(bomb.length < 1024, 'small on the wire');
  const error = await t.throwsAsync(receiver.decode(bomb, 1), { instanceOf: StreamProtocolError });
  t.is(error?.reason, 'HeaderBlockTooLarge');
  t.deepEqual(error?.reaction, { kind: 'goaway', status: GoAwayStatus.ProtocolError });
  sender.close();
  receiver.close();
});

/** A block written by hand, so that invalid names can be put in it. */
function serializeRaw(pairs: [string, string][]): Buffer {
  const parts = [u32(pairs.length)];
  for (const [name, value] of pairs)
    parts.push(u32(name.length), Buffer.from(name), u32(value.length), Buffer.from(value));
  return Buffer.concat(parts);
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}
