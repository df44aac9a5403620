// Terminal resize events: a decoder for the resize stream/channel and the queue that hands sizes to the
// provider as an AsyncIterable. Clients send {"Width":80,"Height":24} objects: client-go one per line,
// the JavaScript client one per WebSocket message without a newline, so objects are split by their
// braces rather than by lines.
import { StringDecoder } from 'node:string_decoder';
import type { TerminalSize } from './attach-session.js';

/** Collects JSON objects from arbitrary chunks; returns the sizes completed by each chunk. */
export class ResizeDecoder {
  /** Refuses to buffer more than this while waiting for the end of one object. */
  static readonly MAX_OBJECT_LENGTH = 4096;

  readonly #utf8 = new StringDecoder('utf8');
  #pending = '';
  #depth = 0;
  #inString = false;
  #escaped = false;

  push(chunk: Buffer | string): TerminalSize[] {
    const sizes: TerminalSize[] = [];
    const text = typeof chunk === 'string' ? chunk : this.#utf8.write(chunk);
    for (const char of text) {
      if (this.#depth === 0) {
        // Whitespace and newlines between objects are skipped, and so is stray text.
        if (char === '{') {
          this.#depth = 1;
          this.#pending = char;
        }
        continue;
      }
      this.#pending += char;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (char === '\\') this.#escaped = true;
        else if (char === '"') this.#inString = false;
      } else if (char === '"') {
        this.#inString = true;
      } else if (char === '{') {
        this.#depth++;
      } else if (char === '}' && --this.#depth === 0) {
        const size = parseSize(this.#pending);
        if (size !== undefined) sizes.push(size);
        this.#pending = '';
      }
      if (this.#pending.length > ResizeDecoder.MAX_OBJECT_LENGTH) this.#reset();
    }
    return sizes;
  }

  #reset(): void {
    this.#pending = '';
    this.#depth = 0;
    this.#inString = false;
    this.#escaped = false;
  }
}

function parseSize(json: string): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  // Go decodes field names case-insensitively; do the same.
  const fields = new Map(Object.entries(value).map(([key, field]) => [key.toLowerCase(), field as unknown]));
  const width = fields.get('width');
  const height = fields.get('height');
  if (!isDimension(width) || !isDimension(height)) return undefined;
  return { width, height };
}

const isDimension = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;

/**
 * A push-to-pull queue. Keeps only the latest sizes when nobody reads: an old terminal size is of no
 * use, and a client must not be able to grow memory by resizing.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #limit: number;
  #items: T[] = [];
  #ended = false;
  #waiting: ((result: IteratorResult<T>) => void)[] = [];

  constructor(limit = 16) {
    this.#limit = limit;
  }

  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      waiter({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    if (this.#items.length > this.#limit) this.#items.shift();
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: (): Promise<IteratorResult<T>> => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiting.push(resolve));
      },
      return: (): Promise<IteratorResult<T>> => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
