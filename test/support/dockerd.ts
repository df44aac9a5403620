// A private Docker engine for tests that stop and start their VCH, so that the shared engine of the
// test environment is never disturbed. It gets a bridge of its own: a dockerd with --bridge=none
// deletes any "docker0" on the host, which would break another engine that used it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, testEnv, uniqueName } from './env.js';

const run = promisify(execFile);
// Only the VCH-outage test starts one, and it never runs containers: any unused subnet will do.
const bridgeCidr = '172.31.253.1/24';

export class PrivateDockerd {
  readonly dir: string;
  readonly socket: string;
  #child: ChildProcess | undefined;
  #output = '';

  readonly bridge: string;
  readonly #bridgeCidr: string;
  readonly #liveRestore: boolean;

  /** liveRestore: containers outlive a stop of the engine. A test that runs containers passes a bridge of its own. */
  constructor(options: { liveRestore?: boolean; bridge?: { name: string; cidr: string } } = {}) {
    this.bridge = options.bridge?.name ?? 'vk-br-private';
    this.#bridgeCidr = options.bridge?.cidr ?? bridgeCidr;
    this.#liveRestore = options.liveRestore ?? false;
    this.dir = `/var/tmp/${uniqueName('vk-dockerd')}`;
    this.socket = `${this.dir}/docker.sock`;
  }

  get endpoint(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await run('bash', [
      '-c',
      `source "${join(testEnv.root, 'test/env/lib.sh')}" && ensure_bridge ${this.bridge} ${this.#bridgeCidr}`,
    ]);
    this.#child = spawn(
      'dockerd',
      [
        '-H',
        this.endpoint,
        '--data-root',
        `${this.dir}/root`,
        '--exec-root',
        `${this.dir}/exec`,
        '--pidfile',
        `${this.dir}/dockerd.pid`,
        '--bridge',
        this.bridge,
        '--iptables=false',
        '--ip-masq=false',
        '--storage-driver',
        'overlay2',
        ...(this.#liveRestore ? ['--live-restore'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child.stdout?.on('data', (d: Buffer) => (this.#output += d.toString()));
    this.#child.stderr?.on('data', (d: Buffer) => (this.#output += d.toString()));
    const client = new Docker({ socketPath: this.socket });
    await eventually('private dockerd to answer', async () => ((await client.ping()) ? true : undefined), {
      timeoutMs: 60_000,
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  output(): string {
    return this.#output;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
  }
}
