// An image holding test/peers/incluster, a static Go program that calls the API server as an
// in-cluster client-go client does (service env, mounted token and ca.crt). Built once per source
// hash (cached under ~/.cache/vic-kubelet/peers/) and imported into the test VCH through the Docker
// API, as test/env/images.sh imports busybox: no image registry needed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tarArchive } from '../../src/vch/tar.js';
import { docker } from './env.js';

const SOURCE_DIR = fileURLToPath(new URL('../peers/incluster/', import.meta.url));
const SOURCES = ['go.mod', 'go.sum', 'main.go'];
const CACHE_DIR = path.join(
  process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'),
  'vic-kubelet',
  'peers',
);

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out).toString())
        : reject(new Error(`${command} ${args.join(' ')}: ${Buffer.concat(out).toString()}`)),
    );
  });
}

/** The image name (built and imported when missing). */
export async function inclusterImage(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of SOURCES) hash.update(name).update(await readFile(path.join(SOURCE_DIR, name)));
  const tag = hash.digest('hex').slice(0, 12);
  const image = `vic-test/incluster:${tag}`;
  if (
    await docker()
      .getImage(image)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return image;
  const binary = path.join(CACHE_DIR, `incluster-${tag}`);
  if (!existsSync(binary)) {
    await mkdir(CACHE_DIR, { recursive: true });
    const temporary = `${binary}.${process.pid}.tmp`;
    await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', temporary, '.'], SOURCE_DIR, {
      ...process.env,
      CGO_ENABLED: '0',
    });
    await rename(temporary, binary);
  }
  const rootfs = tarArchive([
    { kind: 'dir', path: 'etc', mode: 0o755 },
    { kind: 'file', path: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/:/incluster\n'), mode: 0o644 },
    { kind: 'dir', path: 'tmp', mode: 0o1777 },
    { kind: 'file', path: 'incluster', data: await readFile(binary), mode: 0o755 },
  ]);
  const [repo, version] = image.split(':');
  const stream = await docker().importImage(Readable.from([rootfs]), { repo, tag: version });
  await new Promise<void>((resolve, reject) => {
    docker().modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
  });
  return image;
}
