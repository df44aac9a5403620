// POST /run/{namespace}/{pod}[/{uid}]/{container}?cmd=...: runs a command to completion and answers with
// its output, stdout then stderr, as the kubelet's RunInContainer does.
import { Writable } from 'node:stream';
import type { Request, Response } from 'express';
import { VicError } from '../../shared/errors.js';
import type { Query } from './log-options.js';
import { pathParam, requestSignal, type RouteContext } from './context.js';

/** Beyond this the command is stopped: /run is for short commands, exec is for streams. */
const maxOutputBytes = 16 * 1024 * 1024;

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  #size = 0;
  readonly #onOverflow: () => void;

  constructor(onOverflow: () => void) {
    super();
    this.#onOverflow = onOverflow;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#size += chunk.length;
    // Past the limit the output is dropped and the command stopped; the handler answers with an error.
    if (this.#size > maxOutputBytes) this.#onOverflow();
    else this.chunks.push(chunk);
    done();
  }
}

/** The command of `?cmd=`, split on spaces like the kubelet (empty words dropped). */
export function parseRunCommand(query: Query): string[] {
  const raw = query.cmd;
  const cmd = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const words = (cmd ?? '').split(' ').filter((word) => word.length > 0);
  if (words.length === 0) throw new VicError('Invalid', 'missing command: pass it as ?cmd=...');
  return words;
}

export function runHandler(ctx: RouteContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const namespace = pathParam(req.params, 'namespace');
    const pod = pathParam(req.params, 'pod');
    const container = pathParam(req.params, 'container');
    const uid = req.params.uid === undefined ? undefined : pathParam(req.params, 'uid');
    const command = parseRunCommand(req.query as Query);
    const controller = requestSignal(res);
    let overflow = false;
    const stop = () => {
      overflow = true;
      controller.abort();
    };
    const stdout = new Collector(stop);
    const stderr = new Collector(stop);
    const ref = uid === undefined ? { namespace, name: pod } : { namespace, name: pod, uid };
    const result = await ctx.provider.exec(ref, container, command, {
      stdout,
      stderr,
      tty: false,
      signal: controller.signal,
    });
    if (overflow) throw new VicError('Invalid', `command output exceeds ${maxOutputBytes} bytes: use exec`);
    const output = Buffer.concat([...stdout.chunks, ...stderr.chunks]);
    if (result.exitCode !== 0) {
      throw new VicError(
        'Internal',
        `command terminated with non-zero exit code ${result.exitCode}: ${output.toString('utf8')}`,
      );
    }
    res.status(200).type('text/plain; charset=utf-8').send(output);
  };
}
