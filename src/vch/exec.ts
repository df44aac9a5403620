// Exec and attach over a hijacked Docker connection, behind the neutral AttachIO shape the API layer
// hands down (src/shared/attach-io.ts): stdin, stdout, stderr, TTY, resize, and the exit code.
import type { Socket } from 'node:net';
import type { AttachIO, ExitResult, TerminalSize } from '../shared/attach-io.js';
import { VicError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { call, dial, type VchClient } from './client.js';
import { Demuxer, pumpJoined } from './demux.js';
import { engineRequest, engineUpgrade, replyError } from './engine-http.js';
import { getPodVm } from './list.js';
import type { PodVmMember } from './types.js';

export type { AttachIO, ExitResult };

export interface ExecTarget {
  uid: string;
  containerName: string;
  /**
   * The container's Docker ID when the caller knows it (the prober does): the exec goes straight to
   * it, without listing the pod VM's containers first. A container that stopped answers 409.
   */
  containerId?: string;
}

const RESIZE_ATTEMPTS = 5;

/** How long a busy exec's output gathers before it is passed on; a quiet one's passes at once. */
export const OUTPUT_LINGER_MS = 2;

export class Sessions {
  readonly #client: VchClient;
  readonly #nodeName: string;
  readonly #log: Logger;

  constructor(client: VchClient, nodeName: string, logger: Logger = silentLogger) {
    this.#client = client;
    this.#nodeName = nodeName;
    this.#log = logger.child({ component: 'vch.exec' });
  }

  async exec(target: ExecTarget, command: string[], io: AttachIO): Promise<ExitResult> {
    if (command.length === 0) throw new VicError('Invalid', 'exec needs a command');
    // Listen before the first await: a size sent while the exec is being set up must not be lost.
    const sizes = new SizeFollower(io.resize, this.#log);
    try {
      return await this.#exec(target, command, io, sizes);
    } finally {
      sizes.stop();
    }
  }

  async #exec(target: ExecTarget, command: string[], io: AttachIO, sizes: SizeFollower): Promise<ExitResult> {
    // Probes and hooks: a known container, no stdin, no terminal. The lean path (engine-http.ts).
    if (target.containerId && !io.stdin && !io.tty) return this.#command(target.containerId, command, io);
    const member = target.containerId
      ? { id: target.containerId, dockerName: `${target.containerName} (${target.containerId.slice(0, 12)})` }
      : await this.#running(target);
    const container = this.#client.docker.getContainer(member.id);
    const exec = await call(this.#client, `exec in container ${member.dockerName}`, () =>
      container.exec({
        Cmd: command,
        AttachStdin: io.stdin !== undefined,
        AttachStdout: io.stdout !== undefined,
        // With a TTY there is one output stream; Docker sends stderr into it.
        AttachStderr: io.stderr !== undefined && !io.tty,
        Tty: io.tty,
      }),
    );
    const socket = await dial<Socket>(this.#client, `start exec in container ${member.dockerName}`, {
      path: `/exec/${exec.id}/start`,
      method: 'POST',
      options: { Detach: false, Tty: io.tty },
      hijack: true,
      openStdin: io.stdin !== undefined,
      isStream: true,
      statusCodes: {
        200: true,
        101: true,
        404: 'no such exec',
        409: 'container stopped/paused',
        500: 'server error',
      },
    });
    sizes.start((size) => exec.resize({ h: size.height, w: size.width }));
    // On a TTY, Docker takes a half-close as a detach: it closes the output and leaves the process
    // running. A terminal's end of input is ^D, so that is what the process gets.
    await this.#session(socket, { io, rawOutput: io.tty, stdinEnd: io.tty ? 'eot' : 'half-close' });
    // The output ends a moment before Docker records the exit code.
    for (let i = 0; ; i++) {
      const state = await call(this.#client, `inspect exec ${exec.id}`, () => exec.inspect());
      if (!state.Running || i >= 50) return { exitCode: state.ExitCode ?? -1 };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * A command with output only, as probes and hooks run it: create on the VCH's keep-alive agent,
   * start on a connection of its own (the engine takes it over), then the exit code. Docker records
   * the exit code a moment after the output ends, so the inspect is repeated, with growing pauses.
   */
  async #command(containerId: string, command: string[], io: AttachIO): Promise<ExitResult> {
    const where = `container ${containerId.slice(0, 12)}`;
    const created = await engineRequest(this.#client, {
      method: 'POST',
      path: `/containers/${containerId}/exec`,
      body: { Cmd: command, AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false },
      signal: io.signal,
      action: `exec in ${where}`,
    });
    if (created.status !== 201) throw replyError(created, `exec in ${where}`, this.#client.endpoint);
    const execId = (JSON.parse(created.body.toString('utf8')) as { Id: string }).Id;
    const socket = await engineUpgrade(this.#client, {
      path: `/exec/${execId}/start`,
      body: { Detach: false, Tty: false },
      signal: io.signal,
      action: `start exec in ${where}`,
    });
    await this.#session(socket, { io, rawOutput: false, stdinEnd: 'nothing' });
    for (let pauseMs = 5; ; pauseMs *= 2) {
      const reply = await engineRequest(this.#client, {
        method: 'GET',
        path: `/exec/${execId}/json`,
        signal: io.signal,
        action: `inspect exec in ${where}`,
      });
      if (reply.status !== 200) throw replyError(reply, `inspect exec in ${where}`, this.#client.endpoint);
      const state = JSON.parse(reply.body.toString('utf8')) as {
        Running?: boolean;
        ExitCode?: number | null;
      };
      if (!state.Running || pauseMs > 640) return { exitCode: state.ExitCode ?? -1 };
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /**
   * Attaches to the container's own process, as `kubectl attach`. Resolves with how the process
   * ended, or undefined when the session ended while it still runs.
   */
  async attach(target: ExecTarget, io: AttachIO): Promise<ExitResult | undefined> {
    const sizes = new SizeFollower(io.resize, this.#log);
    try {
      return await this.#attach(target, io, sizes);
    } finally {
      sizes.stop();
    }
  }

  async #attach(target: ExecTarget, io: AttachIO, sizes: SizeFollower): Promise<ExitResult | undefined> {
    const member = await this.#running(target);
    const container = this.#client.docker.getContainer(member.id);
    const info = await call(this.#client, `inspect container ${member.dockerName}`, () =>
      container.inspect(),
    );
    if (io.stdin && !info.Config.OpenStdin) {
      throw new VicError(
        'Invalid',
        `stdin is not enabled for container "${target.containerName}"; set stdin: true`,
      );
    }
    const socket = await dial<Socket>(this.#client, `attach to container ${member.dockerName}`, {
      path: `/containers/${member.id}/attach?`,
      method: 'POST',
      options: {
        stream: true,
        stdin: io.stdin !== undefined,
        stdout: io.stdout !== undefined,
        stderr: io.stderr !== undefined,
      },
      hijack: true,
      openStdin: io.stdin !== undefined,
      isStream: true,
      statusCodes: {
        200: true,
        101: true,
        400: 'bad parameter',
        404: 'no such container',
        500: 'server error',
      },
    });
    // The container decides whether its output is raw (TTY) or multiplexed, not the request.
    sizes.start((size) => container.resize({ h: size.height, w: size.width }));
    await this.#session(socket, {
      io,
      rawOutput: info.Config.Tty,
      stdinEnd: attachStdinEnd(info.Config.Tty, info.Config.StdinOnce),
    });
    const after = await call(this.#client, `inspect container ${member.dockerName}`, () =>
      container.inspect(),
    );
    return after.State.Running ? undefined : { exitCode: after.State.ExitCode };
  }

  async #running(target: ExecTarget): Promise<PodVmMember> {
    const vm = await getPodVm(this.#client, this.#nodeName, target.uid);
    const member = (vm?.members ?? [])
      .filter((m) => m.name === target.containerName)
      .sort((a, b) => b.attempt - a.attempt)[0];
    if (!member)
      throw new VicError('NotFound', `container "${target.containerName}" in pod ${target.uid} not found`);
    if (member.state !== 'running') {
      throw new VicError(
        'Conflict',
        `container "${target.containerName}" in pod ${target.uid} is not running`,
      );
    }
    return member;
  }

  /** Runs the byte streams of one hijacked connection until the far side ends it or the caller aborts. */
  #session(socket: Socket, options: SessionOptions): Promise<void> {
    const { io, rawOutput, stdinEnd } = options;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        io.signal.removeEventListener('abort', onAbort);
        if (io.stdin) io.stdin.unpipe(socket);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish(new VicError('Canceled', 'the session was closed by the client'));
      if (io.signal.aborted) return onAbort();
      io.signal.addEventListener('abort', onAbort, { once: true });

      if (rawOutput) {
        if (io.stdout) socket.pipe(io.stdout, { end: false });
        else socket.resume();
        // Piped data is handed to stdout as it arrives: at the end of the socket, all of it was.
        socket.on('end', () => finish());
        socket.on('close', () => finish());
      } else {
        const demuxer = new Demuxer(io.stdout, io.stderr);
        // A process writes its output a few KiB at a time: batched (see pumpJoined), not one message
        // per piece to the client.
        pumpJoined(socket, demuxer, { lingerMs: OUTPUT_LINGER_MS });
        // The demuxer may still wait for a slow stdout when the socket ends: done is when it is.
        demuxer.on('finish', () => finish());
        socket.on('close', () => {
          if (!demuxer.writableEnded) demuxer.end();
        });
      }
      socket.on('error', (err) => this.#log.debug({ err: err.message }, 'session socket error'));
      if (io.stdin) {
        const stdin = io.stdin;
        stdin.pipe(socket, { end: stdinEnd === 'half-close' });
        if (stdinEnd === 'eot') {
          stdin.on('end', () => {
            if (!socket.destroyed) socket.write(EOT);
          });
        }
        stdin.on('error', () => socket.end());
      }
    });
  }
}

/** What the engine is told when the client's stdin ends. */
type StdinEnd = 'half-close' | 'eot' | 'nothing';

interface SessionOptions {
  io: AttachIO;
  /** The output is one raw stream (a TTY), not Docker's multiplexed frames. */
  rawOutput: boolean;
  stdinEnd: StdinEnd;
}

/**
 * The end of the client's stdin on an attach. Docker's attach closes the output at a half-close
 * unless the container is StdinOnce without a TTY (then it closes the process's stdin): output the
 * process writes after that is lost. A kubelet's attach (CRI) keeps the output flowing after stdin
 * ends, and closes the process's stdin only for a StdinOnce container (containerd's
 * container_attach.go). So: half-close only where Docker closes stdin, ^D where a TTY's stdin is to be
 * closed, and otherwise leave the connection open until the process ends it.
 */
export function attachStdinEnd(tty: boolean, stdinOnce: boolean): StdinEnd {
  if (!stdinOnce) return 'nothing';
  return tty ? 'eot' : 'half-close';
}

const EOT = Buffer.from([0x04]);

/**
 * Terminal sizes from the caller, listened to from the start of a session and applied, in order,
 * once the session can take them. Only the newest pending size matters.
 */
class SizeFollower {
  readonly #log: Logger;
  #apply: ((size: TerminalSize) => Promise<unknown>) | undefined;
  #pending: TerminalSize | undefined;
  #chain = Promise.resolve();
  #stopped = false;

  constructor(source: AttachIO['resize'], log: Logger) {
    this.#log = log;
    if (!source) return;
    void (async () => {
      for await (const size of source) {
        if (this.#stopped) break;
        this.#offer(size);
      }
    })().catch((err: unknown) => this.#log.debug({ err: String(err) }, 'resize source failed'));
  }

  /** From now on sizes are applied; a size that came before is applied at once. */
  start(apply: (size: TerminalSize) => Promise<unknown>): void {
    this.#apply = apply;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) this.#offer(pending);
  }

  stop(): void {
    this.#stopped = true;
  }

  #offer(size: TerminalSize): void {
    if (this.#stopped || !(size.width > 0 && size.height > 0)) return;
    if (!this.#apply) {
      this.#pending = size;
      return;
    }
    const apply = this.#apply;
    this.#chain = this.#chain.then(() => this.#applyWithRetry(apply, size));
  }

  // As docker's CLI: the first resize can race the process start, so it is tried a few times.
  async #applyWithRetry(apply: (size: TerminalSize) => Promise<unknown>, size: TerminalSize): Promise<void> {
    for (let i = 1; i <= RESIZE_ATTEMPTS && !this.#stopped; i++) {
      try {
        await apply(size);
        return;
      } catch (err) {
        if (i === RESIZE_ATTEMPTS) this.#log.debug({ err: (err as Error).message }, 'resize failed');
        else await new Promise((resolve) => setTimeout(resolve, 10 * i));
      }
    }
  }
}
