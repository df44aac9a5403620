// The one neutral shape of an exec or attach, from the transport that carried it (SPDY, WebSocket) down
// to the VCH connection that serves it (virtual-kubelet's AttachIO): streams, TTY, terminal sizes,
// the client's going away, and how the process ended. Every layer speaks it; none learns the others.
import type { Readable, Writable } from 'node:stream';

export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

export interface AttachIO {
  readonly stdin?: Readable;
  /** Written to, never ended by the one serving the session: its caller ends it. */
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly tty: boolean;
  /** Terminal sizes as the client sends them; ends when the client goes away. */
  readonly resize?: AsyncIterable<TerminalSize>;
  /** Aborts when the client goes away: whatever runs for it must stop. */
  readonly signal: AbortSignal;
}

/** How the process of an exec or attach ended. */
export interface ExitResult {
  readonly exitCode: number;
}
