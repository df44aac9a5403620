// A minimal in-memory tar (ustar, with PAX records for long names) writer: enough to hand files,
// directories and symlinks with modes and owners to the Docker archive endpoint (PUT /archive).
// Node has no tar in its standard library, and this is all the VCH side needs.

export type TarEntry =
  | { kind: 'file'; path: string; data: Buffer; mode: number; uid?: number; gid?: number }
  | { kind: 'dir'; path: string; mode: number; uid?: number; gid?: number }
  | { kind: 'symlink'; path: string; target: string; uid?: number; gid?: number };

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as GNU and Go both read.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function writeString(header: Buffer, offset: number, width: number, value: string): void {
  header.write(value, offset, Math.min(width, Buffer.byteLength(value)), 'utf8');
}

/** Splits a path into ustar prefix (155) and name (100), or undefined when it does not fit. */
function splitName(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) {
      return { prefix, name };
    }
  }
  return undefined;
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  type: string;
  linkname: string;
}

function header(f: HeaderFields): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  writeString(h, 0, 100, f.name);
  writeString(h, 100, 8, octal(f.mode & 0o7777, 8));
  writeString(h, 108, 8, octal(f.uid, 8));
  writeString(h, 116, 8, octal(f.gid, 8));
  writeString(h, 124, 12, octal(f.size, 12));
  // A fixed mtime: the archive of the same content is the same bytes.
  writeString(h, 136, 12, octal(0, 12));
  h.fill(' ', 148, 156);
  writeString(h, 156, 1, f.type);
  writeString(h, 157, 100, f.linkname);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 345, 155, f.prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, Buffer.alloc(BLOCK - rest, 0)];
}

/** A PAX record "<len> <key>=<value>\n", where len counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

/** The archive of `entries`, in order, ended by two zero blocks. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const path = e.kind === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
    const linkname = e.kind === 'symlink' ? e.target : '';
    const split = splitName(path);
    const pax: string[] = [];
    if (!split) pax.push(paxRecord('path', path));
    if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
    if (pax.length) {
      const data = Buffer.from(pax.join(''), 'utf8');
      parts.push(
        header({
          name: 'PaxHeader',
          prefix: '',
          mode: 0o644,
          uid: 0,
          gid: 0,
          size: data.length,
          type: 'x',
          linkname: '',
        }),
        ...padded(data),
      );
    }
    const data = e.kind === 'file' ? e.data : Buffer.alloc(0);
    parts.push(
      header({
        name: split?.name ?? path.slice(0, 100),
        prefix: split?.prefix ?? '',
        mode: e.kind === 'symlink' ? 0o777 : e.mode,
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        size: data.length,
        type: e.kind === 'file' ? '0' : e.kind === 'dir' ? '5' : '2',
        linkname: linkname.slice(0, 100),
      }),
      ...padded(data),
    );
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
