// The one neutral shape of an exec or attach that both transports (SPDY, WebSocket) produce, so the
// provider never learns which one carried it; plus the shared finish sequence: end the output streams,
// report the result in the client's protocol version, close the connection.
import { finished, type Readable, type Writable } from 'node:stream';
import type { AttachIO, ExitResult, TerminalSize } from '../../shared/attach-io.js';
import { encodeExitStatus, type StatusFormat } from './exit-status.js';

export type { TerminalSize };

/** How a session ended for the client: the process's exit, or why it could not run. */
export type SessionOutcome = ExitResult | { readonly error: string };

/** The neutral AttachIO, as a transport hands it on, plus the transport's own ending. */
export interface AttachSession extends AttachIO {
  /** Terminal sizes as the client sends them; ends with the connection. Nothing comes without a TTY. */
  readonly resize: AsyncIterable<TerminalSize>;
  /** Ends stdout and stderr, reports the outcome to the client, closes the connection. Idempotent. */
  finish(outcome: SessionOutcome): Promise<void>;
}

/** The parts a transport supplies; the finish sequence is the same for all of them. */
export interface TransportParts {
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly tty: boolean;
  readonly resize: AsyncIterable<TerminalSize>;
  readonly signal: AbortSignal;
  readonly statusFormat: StatusFormat;
  /** The exec'd command, quoted in the non-zero exit message; empty for attach. */
  readonly command: readonly string[];
  /** Writes the encoded status (if the protocol sends one) and closes the connection. */
  complete(status: Buffer | undefined): Promise<void>;
}

export function createAttachSession(parts: TransportParts): AttachSession {
  let finishing: Promise<void> | undefined;
  return {
    stdin: parts.stdin,
    stdout: parts.stdout,
    stderr: parts.stderr,
    tty: parts.tty,
    resize: parts.resize,
    signal: parts.signal,
    finish(result: SessionOutcome): Promise<void> {
      finishing ??= (async () => {
        // Output first: the client stops reading once it has the status.
        await Promise.all([endWritable(parts.stdout), endWritable(parts.stderr)]);
        await parts.complete(encodeExitStatus(result, parts.statusFormat, parts.command));
      })();
      return finishing;
    },
  };
}

/** Ends a writable and waits until what was written has been handed on (or the stream is gone). */
export function endWritable(stream: Writable | undefined): Promise<void> {
  if (stream === undefined || stream.writableFinished || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const cleanup = finished(stream, { readable: false }, () => {
      cleanup();
      resolve();
    });
    stream.end();
  });
}
