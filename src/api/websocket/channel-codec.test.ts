import test from 'ava';
import {
  decodeChannelMessage,
  encodeChannelMessage,
  EXEC_CHANNEL_PROTOCOLS,
  negotiateChannelProtocol,
  PORT_FORWARD_CHANNEL_PROTOCOLS,
  type ChannelProtocol,
} from './channel-codec.js';
import { StreamProtocolError } from '../transport/protocol-error.js';

const byName = (name: string): ChannelProtocol => EXEC_CHANNEL_PROTOCOLS.find((p) => p.name === name)!;

test('negotiation takes the client’s first supported offer, and none means binary v1', (t) => {
  t.is(
    negotiateChannelProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'], EXEC_CHANNEL_PROTOCOLS)?.name,
    'v5.channel.k8s.io',
  );
  t.is(
    negotiateChannelProtocol(['x', 'v4.base64.channel.k8s.io'], EXEC_CHANNEL_PROTOCOLS)?.name,
    'v4.base64.channel.k8s.io',
  );
  t.is(negotiateChannelProtocol([], EXEC_CHANNEL_PROTOCOLS)?.name, '');
  t.is(negotiateChannelProtocol(['v5.channel.k8s.io'], PORT_FORWARD_CHANNEL_PROTOCOLS), undefined);
});

test('binary framing: the first byte is the channel', (t) => {
  const protocol = byName('v4.channel.k8s.io');
  const message = encodeChannelMessage(protocol, 1, Buffer.from('out'));
  t.true(message.binary);
  t.deepEqual(message.data, Buffer.from([1, ...Buffer.from('out')]));
  t.deepEqual(decodeChannelMessage(protocol, Buffer.from([0, 104, 105])), {
    kind: 'data',
    channel: 0,
    data: Buffer.from('hi'),
  });
});

test("base64 framing: '0'+channel, then base64 text", (t) => {
  const protocol = byName('base64.channel.k8s.io');
  const message = encodeChannelMessage(protocol, 2, Buffer.from('err'));
  t.deepEqual(message, { data: '2ZXJy', binary: false });
  t.deepEqual(decodeChannelMessage(protocol, Buffer.from('0aGk=')), {
    kind: 'data',
    channel: 0,
    data: Buffer.from('hi'),
  });
  const error = t.throws(() => decodeChannelMessage(protocol, Buffer.from('0!!')), {
    instanceOf: StreamProtocolError,
  });
  t.deepEqual(error?.reaction, { kind: 'ws-close', code: 1007 });
});

test('v5 closes a channel with [255, channel]; earlier versions have no such signal', (t) => {
  t.deepEqual(decodeChannelMessage(byName('v5.channel.k8s.io'), Buffer.from([255, 0])), {
    kind: 'close',
    channel: 0,
  });
  t.deepEqual(decodeChannelMessage(byName('v4.channel.k8s.io'), Buffer.from([255, 0])), {
    kind: 'data',
    channel: 255,
    data: Buffer.from([0]),
  });
  const error = t.throws(() => decodeChannelMessage(byName('v5.channel.k8s.io'), Buffer.from([255, 0, 1])), {
    instanceOf: StreamProtocolError,
  });
  t.deepEqual(error?.reaction, { kind: 'ws-close', code: 1002 });
});

test('empty messages are ignored', (t) => {
  t.is(decodeChannelMessage(byName(''), Buffer.alloc(0)), undefined);
});
