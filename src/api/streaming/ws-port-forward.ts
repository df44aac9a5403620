// port-forward over WebSocket at the kubelet: ?port=80&port=8080 picks the ports; port i uses channel
// 2i for data and 2i+1 for errors, and the server first sends the port (uint16, little-endian) on both.
// The connection closes once every port's handler is done.
import type { WebSocket } from 'ws';
import { VicError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { parsePort, runPortForward, type PortForwardHandler } from './port-forward.js';
import { CloseCode, type ChannelProtocol } from '../websocket/channel-codec.js';
import { ChannelConnection } from '../websocket/channel-streams.js';

/** The ports of a WebSocket port-forward request; each `port` value may hold a comma-separated list. */
export function parsePortForwardPorts(url: string | URL): number[] {
  const parsed = typeof url === 'string' ? new URL(url, 'http://kubelet.invalid') : url;
  const values = parsed.searchParams.getAll('port');
  if (values.length === 0) throw new VicError('Invalid', 'query parameter "port" is required');
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') throw new VicError('Invalid', 'query parameter "port" cannot be empty');
    for (const item of value.split(',')) {
      const port = parsePort(item);
      if (port === undefined)
        throw new VicError('Invalid', `unable to parse ${JSON.stringify(item)} as a port`);
      ports.push(port);
    }
  }
  return ports;
}

export interface WebSocketPortForwardOptions {
  protocol: ChannelProtocol;
  ports: readonly number[];
  handler: PortForwardHandler;
  logger?: Logger;
}

export async function serveWebSocketPortForward(
  ws: WebSocket,
  options: WebSocketPortForwardOptions,
): Promise<void> {
  const { protocol, ports, handler } = options;
  const logger = options.logger ?? silentLogger;
  const connection = new ChannelConnection(ws, protocol, logger);
  const controller = new AbortController();
  void connection.closed.then(() =>
    controller.abort(new Error('the client closed the port-forward connection')),
  );

  await Promise.all(
    ports.map(async (port, index) => {
      const dataChannel = 2 * index;
      const errorChannel = dataChannel + 1;
      const stream = connection.open(dataChannel);
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16LE(port);
      void connection.send(dataChannel, prefix);
      void connection.send(errorChannel, prefix);
      await runPortForward(
        handler,
        {
          port,
          stream,
          signal: controller.signal,
          reportError: (message) => void connection.send(errorChannel, Buffer.from(message, 'utf8')),
        },
        logger,
      );
      stream.end();
      stream.resume();
    }),
  );
  connection.close(CloseCode.Normal);
}
