// Builds and runs test/peers/spdy-client, the Go program that drives our endpoints with client-go's own
// SPDY and WebSocket executors. The binary is cached under ~/.cache/vic-kubelet/peers/, keyed by a hash
// of its sources, so it is rebuilt only when they change; a lock directory keeps parallel test files
// from building it twice.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SOURCE_DIR = fileURLToPath(new URL('../../../peers/spdy-client/', import.meta.url));
const SOURCES = ['go.mod', 'go.sum', 'main.go'];
const CACHE_DIR = path.join(
  process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'),
  'vic-kubelet',
  'peers',
);

export interface PeerRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

let building: Promise<string> | undefined;

/** Path of the built peer, building it first when its sources changed. */
export function peerBinary(): Promise<string> {
  building ??= build();
  return building;
}

async function build(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of SOURCES) hash.update(name).update(await readFile(path.join(SOURCE_DIR, name)));
  const binary = path.join(CACHE_DIR, `spdy-client-${hash.digest('hex').slice(0, 16)}`);
  const lock = `${binary}.lock`;
  await mkdir(CACHE_DIR, { recursive: true });
  for (;;) {
    if (existsSync(binary)) return binary;
    try {
      await mkdir(lock);
    } catch {
      // Another test process is building; a lock older than 15 minutes is left over from a crash.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 15 * 60_000) await rm(lock, { recursive: true, force: true });
      await sleep(500);
      continue;
    }
    try {
      const temporary = `${binary}.${process.pid}.tmp`;
      const result = await run('go', ['build', '-o', temporary, '.'], { cwd: SOURCE_DIR });
      if (result.code !== 0) throw new Error(`building the Go peer failed:\n${result.stderr.toString()}`);
      await rename(temporary, binary);
      return binary;
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; stdin?: Buffer } = {},
): Promise<PeerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? Buffer.alloc(0));
  });
}

/** Runs the peer with `args`; `stdin` is written to it and then closed. */
export async function runPeer(args: readonly string[], stdin?: Buffer): Promise<PeerRun> {
  return run(await peerBinary(), args, { stdin });
}

/** Starts the peer and hands back its stdin, for sessions the test keeps open. */
export async function startPeer(args: readonly string[]) {
  const child = spawn(await peerBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const done = new Promise<PeerRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }),
    );
  });
  return { stdin: child.stdin, done };
}
