// Docker's multiplexed stream format (non-TTY logs, attach and exec): an 8-byte header (stream type,
// three zero bytes, big-endian length) before each frame. A parser without sockets, and a Writable
// that splits frames to stdout and stderr with backpressure both ways; modem.demuxStream has none.
import { Writable } from 'node:stream';

export type StreamType = 0 | 1 | 2;

export interface Frame {
  stream: StreamType;
  data: Buffer;
}

const HEADER = 8;

/**
 * Feeds on chunks cut anywhere and returns whole frames. Bytes that do not start with a valid
 * header mean the stream is not multiplexed (a TTY): from then on everything is stdout, raw.
 */
export class FrameParser {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #raw = false;

  push(chunk: Buffer): Frame[] {
    if (this.#raw) return chunk.length > 0 ? [{ stream: 1, data: chunk }] : [];
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#pendingBytes < HEADER) break;
      const head = this.#peek(HEADER);
      const type = head[0] ?? 0;
      if (type > 2 || head[1] !== 0 || head[2] !== 0 || head[3] !== 0) {
        this.#raw = true;
        const rest = this.#take(this.#pendingBytes);
        frames.push({ stream: 1, data: rest });
        break;
      }
      const length = head.readUInt32BE(4);
      if (this.#pendingBytes < HEADER + length) break;
      this.#take(HEADER);
      const data = this.#take(length);
      if (length > 0) frames.push({ stream: type as StreamType, data });
    }
    return frames;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  #peek(n: number): Buffer {
    if ((this.#pending[0]?.length ?? 0) < n) this.#pending = [Buffer.concat(this.#pending)];
    return this.#pending[0]!.subarray(0, n);
  }

  #take(n: number): Buffer {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    return out;
  }
}

/** Resolves once `target` can take more (or is gone): one 'drain' and one 'close' listener at most. */
function roomIn(target: Writable): Promise<void> {
  if (!target.writableNeedDrain || target.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      target.off('drain', done);
      target.off('close', done);
      resolve();
    };
    target.once('drain', done);
    target.once('close', done);
  });
}

/**
 * A sink for a multiplexed stream: pipe the Docker stream into it. stdin frames (type 0) and frames
 * for an output that was not given are dropped. It waits for a slow output before taking more.
 */
export class Demuxer extends Writable {
  readonly #parser = new FrameParser();
  readonly #stdout: Writable | undefined;
  readonly #stderr: Writable | undefined;

  constructor(stdout: Writable | undefined, stderr: Writable | undefined) {
    super();
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Every frame of the chunk is written at once; then one wait per output that is full. A wait per
    // frame would stack a 'drain' and a 'close' listener per frame on a slow output.
    const written = new Set<Writable>();
    for (const frame of this.#parser.push(chunk)) {
      const target = frame.stream === 1 ? this.#stdout : frame.stream === 2 ? this.#stderr : undefined;
      if (!target || target.destroyed || target.writableEnded) continue;
      target.write(frame.data);
      written.add(target);
    }
    if (written.size === 0) callback();
    else Promise.all([...written].map(roomIn)).then(() => callback(), callback);
  }
}
