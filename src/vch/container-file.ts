// Reads one small file out of a container's filesystem (running or stopped) over the Docker API's
// archive GET, so nothing depends on the VCH's disk being reachable from vic-kubelet.
import type { Readable } from 'node:stream';
import { statusCodeOf, toVicError, type VchClient } from './client.js';

/** The first regular file of a tar stream, at most `maxBytes` of it; undefined when there is none. */
export function firstFileOfTar(tar: Buffer, maxBytes: number): string | undefined {
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) return undefined;
    const size = parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const body = offset + 512;
    if (type === '0' || type === '\0') {
      return tar.subarray(body, body + Math.min(size, maxBytes)).toString('utf8');
    }
    offset = body + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

export async function readContainerFile(
  client: VchClient,
  id: string,
  path: string,
  maxBytes: number,
): Promise<string | undefined> {
  let stream: Readable;
  try {
    stream = (await client.docker.getContainer(id).getArchive({ path })) as Readable;
  } catch (err) {
    if (statusCodeOf(err) === 404) return undefined;
    throw toVicError(err, `read ${path} from container ${id}`, client.endpoint);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // The header plus the part of the file we keep; the rest of the archive is not read.
  const enough = 512 + maxBytes + 512;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= enough) break;
  }
  stream.destroy();
  return firstFileOfTar(Buffer.concat(chunks), maxBytes);
}
