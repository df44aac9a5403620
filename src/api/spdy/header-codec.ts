// SPDY/3 name/value blocks: the pure (de)serialisation of a block (32-bit counts and lengths, lower-case
// names, several values of one name joined by NUL) and the session's compression state: exactly one
// zlib inflate and one deflate per session, both primed with the SPDY/3 dictionary, one SYNC_FLUSH per
// block so that every block can be decoded on its own while all blocks share one compression context.
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { GoAwayStatus, RstStatus, type SpdyHeaders } from './frames.js';
import { goAway, protocolError, rstStream, type StreamProtocolError } from '../transport/protocol-error.js';

/** Headers as callers like to write them; serialised with lower-case names. */
export type HeaderInput = Readonly<Record<string, string | readonly string[]>>;

export const DEFAULT_MAX_HEADER_BLOCK_SIZE = 256 * 1024;

export function serializeNameValueBlock(headers: HeaderInput): Buffer {
  const merged = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === '') continue;
    const values = typeof value === 'string' ? [value] : [...value];
    merged.set(lower, [...(merged.get(lower) ?? []), ...values]);
  }
  const parts: Buffer[] = [u32(merged.size)];
  for (const [name, values] of merged) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(nameBytes.length), nameBytes, u32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

/**
 * Parses a decompressed block. A malformed block is a stream error (RST_STREAM PROTOCOL_ERROR): the
 * compression context is still intact, so the session itself can carry on.
 */
export function parseNameValueBlock(block: Buffer, streamId: number): SpdyHeaders {
  const bad = (message: string): StreamProtocolError =>
    protocolError(
      'BadHeaderBlock',
      `stream ${streamId}: ${message}`,
      rstStream(streamId, RstStatus.ProtocolError),
    );
  let offset = 0;
  const readLength = (): number => {
    if (offset + 4 > block.length) throw bad('truncated name/value block');
    const value = block.readUInt32BE(offset);
    offset += 4;
    if (offset + value > block.length) throw bad('length runs past the end of the block');
    return value;
  };
  const count = readLength();
  const headers: Record<string, string[]> = {};
  for (let index = 0; index < count; index++) {
    const nameLength = readLength();
    if (nameLength === 0) throw bad('empty header name');
    const name = block.toString('utf8', offset, offset + nameLength);
    offset += nameLength;
    if (name !== name.toLowerCase()) throw bad(`header name ${JSON.stringify(name)} is not lower case`);
    if (Object.hasOwn(headers, name)) throw bad(`duplicate header name ${JSON.stringify(name)}`);
    const valueLength = readLength();
    headers[name] = block.toString('utf8', offset, offset + valueLength).split('\0');
    offset += valueLength;
  }
  if (offset !== block.length) throw bad(`${block.length - offset} bytes after the last header`);
  return headers;
}

/** The first value of a header, if any. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers[name.toLowerCase()]?.[0];
}

export interface HeaderCodecOptions {
  /** Largest decompressed name/value block accepted; beyond it the session ends (GOAWAY). */
  readonly maxHeaderBlockSize?: number;
}

export class HeaderCodec {
  readonly #inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  readonly #deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  readonly #maxHeaderBlockSize: number;
  // Node's zlib streams are asynchronous; each direction runs one block at a time, in call order,
  // because every block depends on the compression state the previous one left behind.
  #decoding: Promise<unknown> = Promise.resolve();
  #encoding: Promise<unknown> = Promise.resolve();

  constructor(options: HeaderCodecOptions = {}) {
    this.#maxHeaderBlockSize = options.maxHeaderBlockSize ?? DEFAULT_MAX_HEADER_BLOCK_SIZE;
    // Failures reach callers through the promise of the block being processed.
    this.#inflate.on('error', () => {});
    this.#deflate.on('error', () => {});
  }

  /** Decompresses and parses one block. Compression failures and oversize blocks are session errors. */
  decode(block: Buffer, streamId: number): Promise<SpdyHeaders> {
    const result = this.#decoding.then(async () => {
      let raw: Buffer;
      try {
        raw = await flushBlock(this.#inflate, block, this.#maxHeaderBlockSize);
      } catch (err) {
        if (err instanceof BlockTooLarge) {
          throw protocolError(
            'HeaderBlockTooLarge',
            `stream ${streamId}: header block exceeds ${this.#maxHeaderBlockSize} bytes`,
            goAway(GoAwayStatus.ProtocolError),
          );
        }
        throw protocolError(
          'BadCompression',
          `stream ${streamId}: header block does not decompress`,
          goAway(GoAwayStatus.ProtocolError),
          err,
        );
      }
      return parseNameValueBlock(raw, streamId);
    });
    this.#decoding = result.catch(() => undefined);
    return result;
  }

  /** Serialises and compresses one block; blocks must be written to the wire in call order. */
  encode(headers: HeaderInput): Promise<Buffer> {
    const block = serializeNameValueBlock(headers);
    const result = this.#encoding.then(() => flushBlock(this.#deflate, block, Number.POSITIVE_INFINITY));
    this.#encoding = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.#inflate.close();
    this.#deflate.close();
  }
}

class BlockTooLarge extends Error {}

/**
 * Feeds one block through a zlib stream and collects what a SYNC_FLUSH yields. The flush callback runs
 * after the output of everything written before it has been emitted.
 */
function flushBlock(engine: zlib.Inflate | zlib.Deflate, input: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (engine.destroyed) {
      reject(engine.errored ?? new Error('the zlib context is gone'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      engine.off('data', onData);
      engine.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop inflating a bomb right away; the session is over anyway.
        cleanup();
        engine.destroy();
        reject(new BlockTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    engine.on('data', onData);
    engine.on('error', onError);
    engine.write(input);
    engine.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      cleanup();
      // A failed write also calls back; the stream then says why.
      if (engine.errored !== null || engine.destroyed) reject(engine.errored ?? new Error('zlib stopped'));
      else resolve(Buffer.concat(chunks, size));
    });
  });
}

function u32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}
