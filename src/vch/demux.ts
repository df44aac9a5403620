// Docker's multiplexed stream format (non-TTY logs, attach and exec): an 8-byte header (stream type,
// three zero bytes, big-endian length) before each frame. A parser without sockets, and a Writable
// that splits frames to stdout and stderr with backpressure both ways; modem.demuxStream has none.
import { Writable, type Readable } from 'node:stream';

export type StreamType = 0 | 1 | 2;

export interface Frame {
  stream: StreamType;
  data: Buffer;
}

const HEADER = 8;

/**
 * Feeds on chunks cut anywhere and returns whole frames; consecutive frames of the same stream come
 * back as one, their payloads joined. Bytes that do not start with a valid header mean the stream is
 * not multiplexed (a TTY): from then on everything is stdout, raw.
 *
 * A log comes as one frame per line, ~100 bytes: the chunk is scanned in place with an offset, and a
 * run of frames costs one buffer, not a few objects per frame.
 */
export class FrameParser {
  /** The start of a frame that the last chunk cut off, kept as it came (no copy until it is whole). */
  #carry: Buffer[] = [];
  #carryLength = 0;
  #raw = false;

  push(chunk: Buffer): Frame[] {
    if (this.#raw) return chunk.length > 0 ? [{ stream: 1, data: chunk }] : [];
    let buf = chunk;
    let lead: Frame | undefined;
    if (this.#carryLength > 0) {
      // Only the bytes that finish the cut-off frame are copied, not the whole chunk: an exec's bulk
      // output comes as 64 KiB chunks of 4 KiB frames, and the chunk itself was being copied twice.
      const finish = this.#bytesToFinish(chunk);
      if (finish === 'more') {
        this.#carry.push(chunk);
        this.#carryLength += chunk.length;
        return [];
      }
      const whole = finish === 'invalid' ? chunk.length : finish;
      const joined = Buffer.concat([...this.#carry, chunk.subarray(0, whole)], this.#carryLength + whole);
      this.#carry = [];
      this.#carryLength = 0;
      if (finish === 'invalid') buf = joined;
      else {
        const run = scanRun(joined, 0);
        if (run.payload > 0) lead = { stream: run.stream, data: joined.subarray(HEADER) };
        buf = chunk.subarray(whole);
      }
    }
    const frames: Frame[] = [];
    let offset = 0;
    if (lead) {
      // The finished frame and a run of the same stream after it leave as one.
      const run = scanRun(buf, 0);
      if (run.frames > 0 && run.stream === lead.stream) {
        frames.push({ stream: lead.stream, data: joinPayloads(buf, 0, run, lead.data) });
        offset = run.end;
      } else frames.push(lead);
    }
    for (;;) {
      const run = scanRun(buf, offset);
      if (run.frames > 0) {
        if (run.payload > 0) frames.push({ stream: run.stream, data: joinPayloads(buf, offset, run) });
        offset = run.end;
      }
      if (run.invalid) {
        this.#raw = true;
        if (offset < buf.length) frames.push({ stream: 1, data: buf.subarray(offset) });
        offset = buf.length;
        break;
      }
      if (run.frames === 0) break;
    }
    if (offset < buf.length) {
      this.#carry = [buf.subarray(offset)];
      this.#carryLength = buf.length - offset;
    }
    return frames;
  }

  /**
   * How many bytes of `chunk` finish the frame begun in the carry: 'more' when the chunk does not
   * finish it (or its header), 'invalid' when the header is no frame header (the stream is raw).
   */
  #bytesToFinish(chunk: Buffer): number | 'more' | 'invalid' {
    if (this.#carryLength + chunk.length < HEADER) return 'more';
    const header = Buffer.concat([...this.#carry, chunk], HEADER);
    if (!isHeader(header, 0)) return 'invalid';
    const need = HEADER + header.readUInt32BE(4) - this.#carryLength;
    return need > chunk.length ? 'more' : need;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.#carryLength;
  }
}

interface Run {
  stream: StreamType;
  /** Whole frames in the run, and their payload bytes. */
  frames: number;
  payload: number;
  /** Offset just past the run's last frame. */
  end: number;
  /** The run stopped at bytes that are no frame header. */
  invalid: boolean;
}

/** The whole frames of one stream from `start` on. */
function scanRun(buf: Buffer, start: number): Run {
  const run: Run = { stream: 1, frames: 0, payload: 0, end: start, invalid: false };
  let at = start;
  while (buf.length - at >= HEADER) {
    if (!isHeader(buf, at)) {
      run.invalid = true;
      break;
    }
    const type = buf[at]!;
    const length = buf.readUInt32BE(at + 4);
    if (buf.length - at - HEADER < length) break;
    if (run.frames === 0) run.stream = type as StreamType;
    else if (type !== run.stream) break;
    run.frames++;
    run.payload += length;
    at += HEADER + length;
    run.end = at;
  }
  return run;
}

function isHeader(buf: Buffer, at: number): boolean {
  return buf[at]! <= 2 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0;
}

/** The payloads of a run, after `lead` if given: a view when it is one frame alone, else one copy. */
function joinPayloads(buf: Buffer, start: number, run: Run, lead?: Buffer): Buffer {
  if (run.frames === 1 && !lead) return buf.subarray(start + HEADER, run.end);
  const out = Buffer.allocUnsafe((lead?.length ?? 0) + run.payload);
  let written = lead ? lead.copy(out) : 0;
  for (let at = start; at < run.end;) {
    const length = buf.readUInt32BE(at + 4);
    buf.copy(out, written, at + HEADER, at + HEADER + length);
    written += length;
    at += HEADER + length;
  }
  return out;
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
 * The frames of one chunk that go to the same output leave as one write: a log comes as one frame per
 * line, and a write per line costs an HTTP chunk (or a WebSocket message) per line further on.
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
    // Every frame of the chunk is written at once, joined per output (in order: when stdout and stderr
    // are one stream, as for logs, their lines stay interleaved as they came); then one wait per
    // output that is full. A wait per frame would stack a 'drain' and a 'close' listener per frame.
    const parts = new Map<Writable, Buffer[]>();
    for (const frame of this.#parser.push(chunk)) {
      const target = frame.stream === 1 ? this.#stdout : frame.stream === 2 ? this.#stderr : undefined;
      if (!target || target.destroyed || target.writableEnded) continue;
      const list = parts.get(target);
      if (list) list.push(frame.data);
      else parts.set(target, [frame.data]);
    }
    if (parts.size === 0) return callback();
    for (const [target, list] of parts) target.write(list.length === 1 ? list[0] : Buffer.concat(list));
    Promise.all([...parts.keys()].map(roomIn)).then(() => callback(), callback);
  }

  // Chunks that queued while an output was full are parsed as one.
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const all = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this._write(all, chunks[0]!.encoding, callback);
  }
}

export interface PumpOptions {
  /**
   * How long bytes may wait for more before they are written (0: each chunk at once). Bytes that
   * come after a quiet spell of this long go out at once; a busy stream goes out in batches at most
   * this far apart. Default 0.
   */
  lingerMs?: number;
  /** A batch this large is written without waiting out the linger. Default 64 KiB. */
  batchBytes?: number;
}

export const DEFAULT_BATCH_BYTES = 64 * 1024;

/**
 * Copies `source` into `sink` like pipe() (backpressure, the sink ended at the source's end), but
 * joins the chunks that arrive within `lingerMs` into one write: a Nagle for engine streams. The
 * engine writes a followed log a dozen lines at a time and an exec's output 4 KiB at a time, each
 * a socket read here; written one by one, each would be a write, a TLS record and a wake-up of the
 * API server and the client, which cost more than the bytes. Stops when `sink` is gone.
 */
export function pumpJoined(source: Readable, sink: Writable, options: PumpOptions = {}): void {
  const lingerMs = options.lingerMs ?? 0;
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  let parts: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  const gone = (): boolean => sink.destroyed || sink.writableEnded;
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (size === 0 || gone()) return;
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    lastWriteAt = performance.now();
    if (!sink.write(chunk)) {
      source.pause();
      sink.once('drain', onDrain);
    }
  };
  const onDrain = (): void => {
    source.resume();
  };
  source.on('data', (chunk: Buffer) => {
    if (gone()) return;
    parts.push(chunk);
    size += chunk.length;
    const waited = performance.now() - lastWriteAt;
    if (lingerMs <= 0 || size >= batchBytes || waited >= lingerMs) flush();
    else timer ??= setTimeout(flush, lingerMs - waited);
  });
  source.once('end', () => {
    flush();
    if (!gone()) sink.end();
  });
  // A source destroyed without an end (a connection reset) still hands on what was held back.
  source.once('close', flush);
  sink.once('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    sink.off('drain', onDrain);
  });
}
