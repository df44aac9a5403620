// exec/attach over the WebSocket channel protocols (channel.k8s.io, base64.channel.k8s.io, v4 and
// v5): channels 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize, built into the same AttachSession the
// SPDY transport produces. The server speaks first, with an empty message on the first output channel.
import type { WebSocket } from 'ws';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { createAttachSession, type AttachSession, type TerminalSize } from './attach-session.js';
import type { ExecOptions } from './exec-options.js';
import { AsyncQueue, ResizeDecoder } from './resize.js';
import { CloseCode, StreamChannel, type ChannelProtocol } from '../websocket/channel-codec.js';
import { ChannelConnection } from '../websocket/channel-streams.js';

export function serveWebSocketExec(
  ws: WebSocket,
  protocol: ChannelProtocol,
  options: ExecOptions,
  logger: Logger = silentLogger,
): AttachSession {
  const connection = new ChannelConnection(ws, protocol, logger);
  const stdin = options.stdin ? connection.open(StreamChannel.Stdin) : undefined;
  const stdout = options.stdout ? connection.open(StreamChannel.Stdout) : undefined;
  const stderr = options.stderr ? connection.open(StreamChannel.Stderr) : undefined;

  // The kubelet reads resize messages whatever the TTY setting; sizes only matter with one.
  const resize = new AsyncQueue<TerminalSize>();
  const decoder = new ResizeDecoder();
  connection
    .open(StreamChannel.Resize)
    .on('data', (chunk: Buffer) => decoder.push(chunk).forEach((size) => resize.push(size)));

  // Tells the client the connection is ready (wsstream does the same).
  const first = options.stdout
    ? StreamChannel.Stdout
    : options.stderr
      ? StreamChannel.Stderr
      : StreamChannel.Error;
  void connection.send(first, Buffer.alloc(0));

  const controller = new AbortController();
  let finished = false;
  void connection.closed.then(() => {
    if (!finished) controller.abort(new Error('the client closed the connection'));
    resize.end();
  });

  return createAttachSession({
    stdin,
    stdout,
    stderr,
    tty: options.tty,
    resize,
    signal: controller.signal,
    statusFormat: protocol.status,
    command: options.command,
    async complete(status) {
      finished = true;
      if (status !== undefined) await connection.send(StreamChannel.Error, status);
      resize.end();
      // A normal closure is how the client learns every channel has ended.
      connection.close(CloseCode.Normal);
    },
  });
}
