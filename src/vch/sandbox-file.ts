// An empty, world-writable file kept in the sandbox's own filesystem, whose path on the VCH host a
// container can bind-mount: a file that outlives the container's process (and its tmpfs /dev) and
// can be read back over the archive API after it stopped. Only for storage drivers that show the
// sandbox's writable layer (overlay2's UpperDir); undefined elsewhere.
import { call, type VchClient } from './client.js';
import { isVirtualSandbox } from './list.js';
import { tarArchive } from './tar.js';

const dir = '.vk-files';

/** A tar archive of one directory and one empty file in it, mode 0666 (anyone in the container may write). */
export function emptyFileTar(name: string): Buffer {
  return tarArchive([
    { kind: 'dir', path: dir, mode: 0o777 },
    { kind: 'file', path: `${dir}/${name}`, data: Buffer.alloc(0), mode: 0o666 },
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
