// Container logs with kubelet's options (follow, tail, since, timestamps, limitBytes, previous, one
// stream or both), as one Readable whose end or destruction closes the request to the VCH.
import type { IncomingMessage } from 'node:http';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { VicError } from '../shared/errors.js';
import { call, dial, type VchClient } from './client.js';
import { Demuxer, pumpJoined } from './demux.js';
import { getPodVm } from './list.js';
import type { PodVmMember } from './types.js';

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: Date;
  timestamps?: boolean;
  limitBytes?: number;
  /** The previous attempt's container, kept after a restart until the next one replaces it. */
  previous?: boolean;
  /** Which output: both interleaved (the default), or one of them. */
  stream?: 'All' | 'Stdout' | 'Stderr';
}

export interface LogTarget {
  uid: string;
  containerName: string;
}

/** Passes the first `limit` bytes, then ends; `onLimit` lets the source be closed at once. */
export class ByteLimit extends Transform {
  #left: number;
  readonly #onLimit: () => void;

  constructor(limit: number, onLimit: () => void) {
    super();
    this.#left = Math.max(0, Math.floor(limit));
    this.#onLimit = onLimit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#left <= 0) return callback();
    const part = chunk.length <= this.#left ? chunk : chunk.subarray(0, this.#left);
    this.#left -= part.length;
    this.push(part);
    if (this.#left === 0) {
      this.push(null);
      this.#onLimit();
    }
    callback();
  }
}

/** Docker's `since` in seconds with a fraction; sinceTime wins over sinceSeconds, as in kubelet. */
export function sinceOf(options: LogOptions, nowMs: number): string | undefined {
  if (options.sinceTime) return (options.sinceTime.getTime() / 1000).toFixed(3);
  if (options.sinceSeconds !== undefined) return ((nowMs - options.sinceSeconds * 1000) / 1000).toFixed(3);
  return undefined;
}

export class Logs {
  readonly #client: VchClient;
  readonly #nodeName: string;

  constructor(client: VchClient, nodeName: string) {
    this.#client = client;
    this.#nodeName = nodeName;
  }

  /** The Docker container the logs come from: the newest attempt, or the one before it. */
  async resolve(target: LogTarget, previous: boolean): Promise<PodVmMember> {
    const vm = await getPodVm(this.#client, this.#nodeName, target.uid);
    const attempts = (vm?.members ?? [])
      .filter((m) => m.name === target.containerName)
      .sort((a, b) => b.attempt - a.attempt);
    const where = vm ? `pod ${vm.pod.namespace}/${vm.pod.name}` : `pod ${target.uid}`;
    const found = previous ? attempts[1] : attempts[0];
    if (!found) {
      throw new VicError(
        'NotFound',
        previous
          ? `previous terminated container "${target.containerName}" in ${where} not found`
          : `container "${target.containerName}" in ${where} not found`,
      );
    }
    return found;
  }

  async read(target: LogTarget, options: LogOptions = {}): Promise<Readable> {
    const member = await this.resolve(target, options.previous ?? false);
    const docker = this.#client.docker;
    const info = await call(this.#client, `inspect container ${member.id}`, () =>
      docker.getContainer(member.id).inspect(),
    );
    if (info.State.Status === 'created' && !info.State.Error) {
      throw new VicError(
        'Invalid',
        `container "${target.containerName}" in pod ${target.uid} is waiting to start: ContainerCreating`,
      );
    }
    const which = options.stream ?? 'All';
    const since = sinceOf(options, Date.now());
    const query: Record<string, string | number | boolean> = {
      follow: options.follow ?? false,
      stdout: which !== 'Stderr',
      stderr: which !== 'Stdout',
      timestamps: options.timestamps ?? false,
      tail: options.tailLines !== undefined && options.tailLines >= 0 ? options.tailLines : 'all',
    };
    if (since !== undefined) query.since = since;
    if (options.limitBytes === 0) return emptyStream();
    // Always a stream: dockerode would buffer a whole log in memory without follow.
    const source = await dial<IncomingMessage>(this.#client, `logs of container ${member.dockerName}`, {
      path: `/containers/${member.id}/logs?`,
      method: 'GET',
      options: query,
      isStream: true,
      statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
    });
    return wire(source, info.Config.Tty, options.limitBytes);
  }
}

/**
 * How long a busy log gathers before its next write: unnoticeable to a reader, ~20 KiB at 10 MiB/s.
 * The kubelet flushes after every write (pkg/kubelet/server/server.go wraps the log response in
 * flushwriter), which is cheap in Go; here each write is a stream pass, an HTTP chunk and a TLS record.
 */
export const LOG_LINGER_MS = 2;

function emptyStream(): Readable {
  const out = new PassThrough();
  out.end();
  return out;
}

/** Connects the VCH's answer to what the caller reads; whichever side goes away takes the other along. */
function wire(source: IncomingMessage, tty: boolean, limitBytes: number | undefined): Readable {
  const out =
    limitBytes !== undefined && limitBytes > 0
      ? new ByteLimit(limitBytes, () => source.destroy())
      : new PassThrough();
  // A TTY container's log is raw; otherwise frames carry the stream they came from.
  // Read in batches, not Docker's one HTTP chunk per frame (see pumpJoined): a followed log's new
  // line still leaves at once, a busy one goes out every few ms.
  const pump = { lingerMs: LOG_LINGER_MS };
  if (tty) pumpJoined(source, out, pump);
  else {
    const sink = new Demuxer(out, out);
    pumpJoined(source, sink, pump);
    sink.on('finish', () => out.end());
  }
  source.on('error', (err) => out.destroy(err));
  // The caller stopped reading (a closed kubectl logs -f): no follow request may stay open.
  out.on('close', () => source.destroy());
  return out;
}
