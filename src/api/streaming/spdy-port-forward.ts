// port-forward over SPDY (portforward.k8s.io): for every forwarded connection the client opens an
// error stream (half-closed at once) and a data stream, both with headers streamType, port and
// requestID. Streams are paired by requestID; each complete pair goes to the handler, and once the
// handler is done both streams are closed, which is what lets client-go finish that connection.
import { systemClock, type Clock } from '../../shared/clock.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { RstStatus } from '../spdy/frames.js';
import type { SpdySession } from '../spdy/session.js';
import type { SpdyStream } from '../spdy/stream.js';
import { DEFAULT_STREAM_CREATION_TIMEOUT_MS } from './spdy-exec.js';
import { parsePort, runPortForward, type PortForwardHandler } from './port-forward.js';
import { protocolError, rstStream } from '../transport/protocol-error.js';

export const SPDY_PORT_FORWARD_PROTOCOLS = ['portforward.k8s.io'] as const;

export interface SpdyPortForwardOptions {
  readonly streamCreationTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

interface Pair {
  readonly requestId: string;
  readonly port: number;
  data?: SpdyStream;
  error?: SpdyStream;
  timer?: { cancel(): void };
}

export function serveSpdyPortForward(
  session: SpdySession,
  handler: PortForwardHandler,
  options: SpdyPortForwardOptions = {},
): void {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.streamCreationTimeoutMs ?? DEFAULT_STREAM_CREATION_TIMEOUT_MS;
  const pairs = new Map<string, Pair>();

  const refuse = (stream: SpdyStream, message: string): void => {
    stream.reset(RstStatus.ProtocolError);
    session.emit(
      'protocol-error',
      protocolError('UnexpectedStream', message, rstStream(stream.id, RstStatus.ProtocolError)),
    );
  };

  session.on('stream', (stream) => {
    const port = parsePort(stream.header('port'));
    const type = stream.header('streamType');
    if (port === undefined) return refuse(stream, `stream ${stream.id}: bad or missing "port" header`);
    if (type !== 'data' && type !== 'error') {
      return refuse(stream, `stream ${stream.id}: invalid stream type ${JSON.stringify(type ?? '')}`);
    }
    stream.respond();
    // Old clients sent no requestID; the kubelet then pairs error stream n with data stream n + 2.
    const requestId = stream.header('requestID') ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (pair === undefined) {
      const created: Pair = { requestId, port };
      created.timer = clock.setTimeout(() => {
        pairs.delete(requestId);
        created.error?.end(`timed out waiting for streams of request ${requestId}`);
        created.data?.reset();
      }, timeoutMs);
      pairs.set(requestId, created);
      pair = created;
    }
    if (pair[type] !== undefined) {
      pair.error?.write(`error processing stream for request ${requestId}: ${type} stream already assigned`);
      stream.reset(RstStatus.ProtocolError);
      return;
    }
    pair[type] = stream;
    const { data, error } = pair;
    if (data === undefined || error === undefined) return;
    pair.timer?.cancel();
    pairs.delete(requestId);
    void forward({ session, handler, logger, port: pair.port, data, error });
  });
  session.once('close', () => {
    for (const pair of pairs.values()) pair.timer?.cancel();
    pairs.clear();
  });
}

/** One forwarded connection: its data and error streams, and where they go. */
interface ForwardedConnection {
  session: SpdySession;
  handler: PortForwardHandler;
  logger: Logger;
  port: number;
  data: SpdyStream;
  error: SpdyStream;
}

async function forward(connection: ForwardedConnection): Promise<void> {
  const { session, handler, logger, port, data, error } = connection;
  // The client half-closes the error stream right away; nothing will be read from it.
  error.resume();
  const controller = new AbortController();
  const abort = (): void => controller.abort(new Error('the client closed the port-forward connection'));
  session.once('close', abort);
  data.once('close', abort);
  const { failed } = await runPortForward(
    handler,
    {
      port,
      stream: data,
      signal: controller.signal,
      reportError: (message) => {
        if (!error.localEnded) error.write(message);
      },
    },
    logger,
  );
  session.off('close', abort);
  data.off('close', abort);
  error.end();
  if (failed) {
    data.reset();
    return;
  }
  data.end();
  // Whatever the client still sends has nobody to read it; drain it so the connection keeps flowing.
  data.resume();
}
