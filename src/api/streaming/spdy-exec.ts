// exec/attach over SPDY (channel.k8s.io v1 to v5): waits a bounded time for the streams the client must
// open (error, the requested stdin/stdout/stderr, resize with a TTY from v3 on), accepts each as it
// arrives (client-go waits for every SYN_REPLY before opening the next), and turns them into the
// neutral AttachSession.
import { systemClock, type Clock } from '../../shared/clock.js';
import { GoAwayStatus, RstStatus } from '../spdy/frames.js';
import type { SpdySession } from '../spdy/session.js';
import type { SpdyStream } from '../spdy/stream.js';
import { createAttachSession, endWritable, type AttachSession, type TerminalSize } from './attach-session.js';
import type { ExecOptions } from './exec-options.js';
import { goAway, protocolError, rstStream, type StreamProtocolError } from '../transport/protocol-error.js';
import { AsyncQueue, ResizeDecoder } from './resize.js';

/** X-Stream-Protocol-Version values we serve, newest first. v5 over SPDY behaves as v4. */
export const SPDY_EXEC_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
] as const;

export const DEFAULT_STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';
const STREAM_TYPES: ReadonlySet<string> = new Set<StreamType>([
  'error',
  'stdin',
  'stdout',
  'stderr',
  'resize',
]);

export interface SpdyExecOptions {
  readonly streamCreationTimeoutMs?: number;
  readonly clock?: Clock;
}

/** 1 for channel.k8s.io, n for vn.channel.k8s.io. */
export function channelProtocolVersion(protocol: string): number {
  const match = /^v(\d+)\.channel\.k8s\.io$/.exec(protocol);
  return match?.[1] === undefined ? 1 : Number(match[1]);
}

/** Which streams the client must open for these options under this protocol version. */
export function expectedStreams(options: ExecOptions, version: number): ReadonlySet<StreamType> {
  const expected = new Set<StreamType>(['error']);
  if (options.stdin) expected.add('stdin');
  if (options.stdout) expected.add('stdout');
  if (options.stderr && !options.tty) expected.add('stderr');
  if (options.tty && version >= 3) expected.add('resize');
  return expected;
}

export function serveSpdyExec(
  session: SpdySession,
  protocol: string,
  options: ExecOptions,
  settings: SpdyExecOptions = {},
): Promise<AttachSession> {
  const version = channelProtocolVersion(protocol);
  const expected = expectedStreams(options, version);
  const clock = settings.clock ?? systemClock;
  const timeoutMs = settings.streamCreationTimeoutMs ?? DEFAULT_STREAM_CREATION_TIMEOUT_MS;

  return new Promise<AttachSession>((resolve, reject) => {
    const streams = new Map<StreamType, SpdyStream>();
    const stop = (): void => {
      timer.cancel();
      session.off('stream', onStream);
      session.off('close', onClose);
    };
    const fail = (error: StreamProtocolError): void => {
      stop();
      session.destroy();
      reject(error);
    };
    const onStream = (stream: SpdyStream): void => {
      const type = stream.header('streamType') ?? '';
      // Like the kubelet, accept a stream of an unknown type and leave it unused.
      if (!STREAM_TYPES.has(type)) {
        stream.respond();
        stream.end(); // we never send on it, and a graceful close must not wait for it
        return;
      }
      if (streams.has(type as StreamType)) {
        const error = protocolError(
          'UnexpectedStream',
          `a second ${type} stream`,
          rstStream(stream.id, RstStatus.ProtocolError),
        );
        stream.reset(RstStatus.ProtocolError);
        session.emit('protocol-error', error);
        return;
      }
      stream.respond();
      streams.set(type as StreamType, stream);
      if ([...expected].every((wanted) => streams.has(wanted))) {
        stop();
        resolve(buildSession(session, streams, options, version));
      }
    };
    const onClose = (): void => {
      stop();
      reject(
        protocolError(
          'StreamCreationTimeout',
          'the client went away before opening its streams',
          goAway(GoAwayStatus.Ok),
        ),
      );
    };
    const timer = clock.setTimeout(
      () =>
        fail(
          protocolError(
            'StreamCreationTimeout',
            `timed out waiting for client to create streams (have ${[...streams.keys()].join(', ') || 'none'})`,
            goAway(GoAwayStatus.Ok),
          ),
        ),
      timeoutMs,
    );
    session.on('stream', onStream);
    session.on('close', onClose);
  });
}

function buildSession(
  session: SpdySession,
  streams: ReadonlyMap<StreamType, SpdyStream>,
  options: ExecOptions,
  version: number,
): AttachSession {
  const error = streams.get('error');
  const stdin = streams.get('stdin');
  const resizeStream = streams.get('resize');
  // Nothing is read from the error stream; draining it keeps a chatty client from stalling the socket.
  error?.resume();
  // v1 closed our side of stdin at once; later versions keep it open until the end.
  if (version === 1) stdin?.end();

  const resize = new AsyncQueue<TerminalSize>();
  const controller = new AbortController();
  let finished = false;
  session.once('close', () => {
    if (!finished) controller.abort(new Error('the client closed the connection'));
    resize.end();
  });

  if (resizeStream !== undefined) {
    const decoder = new ResizeDecoder();
    resizeStream.on('data', (chunk: Buffer) => decoder.push(chunk).forEach((size) => resize.push(size)));
    resizeStream.once('end', () => resize.end());
    resizeStream.once('close', () => resize.end());
  } else {
    resize.end();
  }

  return createAttachSession({
    stdin,
    stdout: streams.get('stdout'),
    stderr: streams.get('stderr'),
    tty: options.tty,
    resize,
    signal: controller.signal,
    statusFormat: version >= 4 ? 'json' : 'text',
    command: options.command,
    async complete(status) {
      finished = true;
      if (error !== undefined && status !== undefined && !error.localEnded) error.write(status);
      // FIN on every stream we hold; client-go waits for the end of stdin before it lets go.
      await Promise.all([...streams.values()].map((stream) => endWritable(stream)));
      resize.end();
      session.close();
    },
  });
}
