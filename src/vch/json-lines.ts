// Docker's streaming endpoints (/events, /stats?stream=1) send one JSON document per line: this
// splits a response into its non-empty lines, however the chunks fall.
import type { Readable } from 'node:stream';

export function onLines(stream: Readable, handle: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) handle(line);
    }
  });
}
