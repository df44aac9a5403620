import test from 'ava';
import { ControlType, GoAwayStatus, RstStatus, type Frame } from './frames.js';
import { FrameParser, type ParserLimits } from './parser.js';
import {
  encodeData,
  encodeFrame,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
} from './writer.js';
import type { StreamProtocolError } from '../transport/protocol-error.js';

function parse(input: Buffer | Buffer[], limits: Partial<ParserLimits> = {}) {
  const frames: Frame[] = [];
  const errors: StreamProtocolError[] = [];
  const parser = new FrameParser({ onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) }, limits);
  for (const chunk of Array.isArray(input) ? input : [input]) parser.push(chunk);
  return { frames, errors, parser };
}

const block = Buffer.from('78bbe3c6a7c2', 'hex'); // any bytes: the parser does not decompress

const samples: Frame[] = [
  { type: 'data', streamId: 1, fin: false, data: Buffer.from('hello') },
  { type: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) },
  {
    type: 'syn-stream',
    streamId: 5,
    associatedStreamId: 0,
    priority: 3,
    slot: 0,
    fin: false,
    unidirectional: true,
    headerBlock: block,
  },
  { type: 'syn-reply', streamId: 7, fin: true, headerBlock: block },
  { type: 'headers', streamId: 9, fin: false, headerBlock: block },
  { type: 'rst-stream', streamId: 11, status: RstStatus.Cancel },
  {
    type: 'settings',
    clearPrevious: true,
    entries: [
      { id: 7, flags: 1, value: 65536 },
      { id: 4, flags: 0, value: 100 },
    ],
  },
  { type: 'ping', id: 1 },
  { type: 'goaway', lastGoodStreamId: 13, status: GoAwayStatus.Ok },
  { type: 'window-update', streamId: 0, delta: 4096 },
];

test('every frame type survives a write/parse round trip', (t) => {
  for (const frame of samples) {
    const { frames, errors } = parse(encodeFrame(frame));
    t.deepEqual(errors, []);
    t.deepEqual(frames, [frame], frame.type);
  }
});

test('input split at every byte boundary yields the same frames', (t) => {
  const wire = Buffer.concat(samples.map(encodeFrame));
  const whole = parse(wire).frames;
  t.is(whole.length, samples.length);
  for (let cut = 1; cut < wire.length; cut++) {
    t.deepEqual(parse([wire.subarray(0, cut), wire.subarray(cut)]).frames, whole, `cut at ${cut}`);
  }
  // And one byte at a time.
  const bytes = [...wire].map((byte) => Buffer.from([byte]));
  t.deepEqual(parse(bytes).frames, whole);
});

test('a control frame of another SPDY version is a session error (GOAWAY)', (t) => {
  // control bit, version 2, type PING, length 4, id 1
  const { frames, errors, parser } = parse(Buffer.from('80020006000000040000000100', 'hex'));
  t.deepEqual(frames, []);
  t.is(errors.length, 1);
  t.is(errors[0]!.reason, 'UnsupportedVersion');
  t.deepEqual(errors[0]!.reaction, { kind: 'goaway', status: GoAwayStatus.ProtocolError });
  t.is(errors[0]!.code, 'ProtocolError');
  t.true(parser.failed);
  parser.push(encodePing(1));
  t.deepEqual(frames, [], 'nothing is parsed after a session error');
});

test('an oversized control frame is refused as soon as its header arrives', (t) => {
  // SYN_STREAM announcing 2 MiB: only the 8-byte header is fed.
  const { errors } = parse(Buffer.from('8003000100200000', 'hex'), { maxControlFrameLength: 1024 * 1024 });
  t.is(errors[0]?.reason, 'FrameTooLarge');
  t.deepEqual(errors[0]?.reaction, { kind: 'goaway', status: GoAwayStatus.ProtocolError });
});

test('an oversized DATA frame resets only its stream and is skipped', (t) => {
  const big = encodeData(3, Buffer.alloc(100, 1));
  const after = encodeData(5, Buffer.from('next'));
  const { frames, errors, parser } = parse(
    [big.subarray(0, 8), big.subarray(8, 50), big.subarray(50), after],
    { maxDataFrameLength: 64 },
  );
  t.is(errors.length, 1);
  t.is(errors[0]!.reason, 'FrameTooLarge');
  t.deepEqual(errors[0]!.reaction, { kind: 'rst-stream', streamId: 3, status: RstStatus.FrameTooLarge });
  t.false(parser.failed);
  t.deepEqual(frames, [{ type: 'data', streamId: 5, fin: false, data: Buffer.from('next') }]);
});

test('a fixed-size control frame with the wrong length is a session error', (t) => {
  // PING with length 5
  const { errors } = parse(Buffer.from('800300060000000500000001ff', 'hex'));
  t.is(errors[0]?.reason, 'InvalidFrameLength');
  t.is(errors[0]?.reaction.kind, 'goaway');
});

test('DATA on stream 0 is a session error', (t) => {
  const { errors } = parse(Buffer.from('0000000001000000', 'hex'));
  t.is(errors[0]?.reason, 'InvalidStreamId');
  t.is(errors[0]?.reaction.kind, 'goaway');
});

test('SYN_STREAM on stream 0 is a session error', (t) => {
  const { errors } = parse(Buffer.from('800300010000000a00000000000000000000', 'hex'));
  t.is(errors[0]?.reason, 'InvalidStreamId');
});

test('SETTINGS whose count does not match its length is a session error', (t) => {
  const settings = encodeSettings([{ id: 7, flags: 0, value: 1 }]);
  settings.writeUInt32BE(2, 8); // claims two entries, carries one
  const { errors } = parse(settings);
  t.is(errors[0]?.reason, 'InvalidFrameLength');
});

test('unknown control frame types are skipped', (t) => {
  // type 10 (CREDENTIAL), 3 bytes of payload, then a PING
  const unknown = Buffer.from('8003000a00000003abcdef', 'hex');
  const { frames, errors } = parse([unknown, encodePing(3)]);
  t.deepEqual(errors, []);
  t.deepEqual(frames, [{ type: 'ping', id: 3 }]);
});

test('the writers put the control bit, version 3 and type in the first word', (t) => {
  t.is(encodeRstStream(1, RstStatus.Cancel).readUInt32BE(0), (0x80030000 | ControlType.RstStream) >>> 0);
  t.is(encodeGoAway(0, 0).readUInt32BE(0), (0x80030000 | ControlType.GoAway) >>> 0);
  t.is(encodeWindowUpdate(1, 10).readUInt32BE(4), 8);
  t.is(encodeData(1, Buffer.from('x'), true).readUInt32BE(4), 0x01000001);
});
