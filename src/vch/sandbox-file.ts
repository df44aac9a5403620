// An empty, world-writable file kept in the sandbox's own filesystem, whose path on the VCH host a
// container can bind-mount: a file that outlives the container's process (and its tmpfs /dev) and
// can be read back over the archive API after it stopped. Only for storage drivers that show the
// sandbox's writable layer (overlay2's UpperDir); undefined elsewhere.
import { call, type VchClient } from './client.js';
import { isVirtualSandbox } from './list.js';

const dir = '.vk-files';

/** A ustar archive of one directory and one empty file in it, mode 0666 (anyone in the container may write). */
export function emptyFileTar(name: string): Buffer {
  const entry = (path: string, type: '0' | '5', mode: number): Buffer => {
    const h = Buffer.alloc(512);
    h.write(path, 0, 'utf8');
    h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write('00000000000\0', 124, 'ascii');
    h.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
      'ascii',
    );
    h.write(type, 156, 'ascii');
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    return h;
  };
  return Buffer.concat([
    entry(`${dir}/`, '5', 0o777),
    entry(`${dir}/${name}`, '0', 0o666),
    Buffer.alloc(1024),
  ]);
}

export async function sandboxFile(
  client: VchClient,
  sandboxId: string,
  name: string,
): Promise<string | undefined> {
  // A vm-per-pod pod VM has no sandbox container to keep the file in (and a VIC VCH refuses host paths).
  if (isVirtualSandbox(sandboxId)) return undefined;
  const sandbox = client.docker.getContainer(sandboxId);
  const info = await call(client, `inspect sandbox ${sandboxId}`, () => sandbox.inspect());
  const upper = (info.GraphDriver?.Data as Record<string, string> | undefined)?.UpperDir;
  if (!upper) return undefined;
  await call(client, `create ${name} in sandbox ${sandboxId}`, () =>
    sandbox.putArchive(emptyFileTar(name), { path: '/' }),
  );
  return `${upper}/${dir}/${name}`;
}
