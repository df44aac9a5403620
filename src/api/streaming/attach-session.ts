// The one neutral shape of an exec or attach that both transports (SPDY, WebSocket) produce, so the
// provider never learns which one carried it; plus the shared finish sequence: end the output streams,
// report the result in the client's protocol version, close the connection.
import { finished, type Readable, type Writable } from 'node:stream';
import { encodeExitStatus, type StatusFormat } from './exit-status.js';

export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** How an exec or attach ended: the command's exit code, or why it could not run. */
export type ExitResult = { readonly exitCode: number } | { readonly error: string };

export interface AttachSession {
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly tty: boolean;
  /** Terminal sizes as the client sends them; ends with the connection. Nothing comes without a TTY. */
  readonly resize: AsyncIterable<TerminalSize>;
  /** Aborts when the client goes away before finish(): whatever runs for the session must stop. */
  readonly signal: AbortSignal;
  /** Ends stdout and stderr, reports the result to the client, closes the connection. Idempotent. */
  finish(result: ExitResult): Promise<void>;
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
    finish(result: ExitResult): Promise<void> {
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
