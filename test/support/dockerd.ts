// A private Docker engine for tests that stop and start their VCH, so that the shared engine of the
// test environment is never disturbed. No bridge and no iptables: it only has to answer the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { eventually, uniqueName } from './env.js';

export class PrivateDockerd {
  readonly dir: string;
  readonly socket: string;
  #child: ChildProcess | undefined;
  #output = '';

  constructor() {
    this.dir = `/var/tmp/${uniqueName('vk-dockerd')}`;
    this.socket = `${this.dir}/docker.sock`;
  }

  get endpoint(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
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
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
        '--storage-driver',
        'overlay2',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child.stdout?.on('data', (d: Buffer) => (this.#output += d.toString()));
    this.#child.stderr?.on('data', (d: Buffer) => (this.#output += d.toString()));
    const client = new Docker({ socketPath: this.socket });
    await eventually('private dockerd to answer', async () => ((await client.ping()) ? true : undefined), { timeoutMs: 60_000 });
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
  }
}
