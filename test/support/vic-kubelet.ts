// Runs a real vic-kubelet process for an end-to-end test: its own node name and port, the test
// environment's cluster and VCH, its output kept for the test's log, and a clean-up that removes the
// Node, its Lease and every pod VM it made.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { docker, eventually, kubeConfig, testEnv, uniqueName } from './env.js';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const maxOutputBytes = 256 * 2 ** 20;

export interface StartOptions {
  nodeName?: string;
  port?: number;
  args?: string[];
  env?: Record<string, string>;
  /** Every byte the process prints is also appended here (output() keeps only the tail). */
  logFile?: string;
}

export class VicKubelet {
  readonly nodeName: string;
  readonly port: number;
  readonly #args: string[];
  readonly #env: Record<string, string>;
  readonly #logFile: string | undefined;
  #child: ChildProcess | undefined;
  #output: string[] = [];
  #outputBytes = 0;

  private constructor(options: StartOptions & { nodeName: string; port: number }) {
    this.nodeName = options.nodeName;
    this.port = options.port;
    this.#args = options.args ?? [];
    this.#env = options.env ?? {};
    this.#logFile = options.logFile;
  }

  /** Starts vic-kubelet; resolves once the process runs (not yet Ready: see waitReady). */
  static async start(options: StartOptions = {}): Promise<VicKubelet> {
    const vk = new VicKubelet({
      ...options,
      nodeName: options.nodeName ?? uniqueName('vk-e2e'),
      port: options.port ?? (await freePort()),
    });
    vk.spawn();
    return vk;
  }

  spawn(): void {
    // VK_E2E_DIST=1 runs the compiled JavaScript, as a user would (npm test builds it first);
    // otherwise the TypeScript sources through tsx, so a test always runs what is in the tree.
    const entry =
      process.env.VK_E2E_DIST === '1'
        ? [join(testEnv.root, 'dist/src/cli/vic-kubelet.js')]
        : ['--import=tsx', join(testEnv.root, 'src/cli/vic-kubelet.ts')];
    const args = [
      ...entry,
      '--node-name',
      this.nodeName,
      '--kubeconfig',
      // scripts/kubelet-kubeconfig.sh: run as the ServiceAccount of deploy/rbac.yaml, with only its rights.
      process.env.VK_E2E_KUBELET_KUBECONFIG ?? testEnv.kubeconfig,
      '--vch',
      testEnv.dockerHost,
      '--node-ip',
      '127.0.0.1',
      '--address',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--sandbox-image',
      testEnv.pauseImage,
      '--client-ca-file',
      join(testEnv.pkiDir, 'ca.crt'),
      ...this.#args,
    ];
    const child = spawn(process.execPath, args, {
      cwd: testEnv.root,
      env: { ...process.env, LOG_LEVEL: 'debug', ...this.#env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // All of it: a test may search the whole output (for a secret, a warning). Capped only far
    // beyond what a test file prints, and then it says so.
    const keep = (chunk: Buffer) => {
      if (this.#logFile) appendFileSync(this.#logFile, chunk);
      if (this.#outputBytes > maxOutputBytes) return;
      this.#output.push(chunk.toString('utf8'));
      this.#outputBytes += chunk.length;
      if (this.#outputBytes > maxOutputBytes) this.#output.push('\n[output beyond 256 MiB dropped]\n');
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#child = child;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Everything the process printed, for a failing test's log. */
  output(): string {
    return this.#output.join('');
  }

  /** Waits until the Node reports Ready=True and returns how long that took from now. */
  async waitReady(timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    let conditions: k8s.V1NodeCondition[] | undefined;
    await eventually(
      `node ${this.nodeName} Ready`,
      async () => {
        const node = await core.readNode({ name: this.nodeName });
        conditions = node.status?.conditions;
        return conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
      },
      { timeoutMs, intervalMs: 100, lastSeen: () => conditions ?? this.output().slice(-1500) },
    );
    return Date.now() - started;
  }

  /** Stops the process with a signal and waits for it to exit; returns its exit code or signal. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string | null> {
    const child = this.#child;
    if (!child || !this.running) return child?.exitCode ?? child?.signalCode ?? null;
    const exited = once(child, 'exit');
    child.kill(signal);
    const [code, sig] = (await exited) as [number | null, string | null];
    return code ?? sig;
  }

  /** Pauses the process (SIGSTOP) as a frozen machine would; resume() lets it run again. */
  pause(): void {
    if (this.#child?.pid && this.running) process.kill(this.#child.pid, 'SIGSTOP');
  }

  resume(): void {
    if (this.#child?.pid && this.running) process.kill(this.#child.pid, 'SIGCONT');
  }

  /** Waits for the process to exit by itself; returns its exit code or signal. */
  async exited(): Promise<number | string | null> {
    const child = this.#child;
    if (!child) return null;
    if (this.running) await once(child, 'exit');
    return child.exitCode ?? child.signalCode;
  }

  /** Stops the process and removes the Node, its Lease and every pod VM labelled with its node. */
  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    const kc = kubeConfig();
    await kc
      .makeApiClient(k8s.CoreV1Api)
      .deleteNode({ name: this.nodeName })
      .catch(() => undefined);
    await kc
      .makeApiClient(k8s.CoordinationV1Api)
      .deleteNamespacedLease({ name: this.nodeName, namespace: 'kube-node-lease' })
      .catch(() => undefined);
    await removePodVms(this.nodeName);
  }
}

/** The Docker containers vic-kubelet made for a node, found by label alone. */
export async function podVmContainers(
  nodeName: string,
): Promise<Array<{ id: string; labels: Record<string, string>; state: string }>> {
  const list = await docker().listContainers({
    all: true,
    filters: { label: [`vic-kubelet.io/node=${nodeName}`] },
  });
  return list.map((c) => ({ id: c.Id, labels: c.Labels, state: c.State }));
}

export async function removePodVms(nodeName: string): Promise<void> {
  for (const c of await podVmContainers(nodeName)) {
    await docker()
      .getContainer(c.id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  // Pod volumes (issue 10) carry the node label too.
  const volumes = await docker().listVolumes({ filters: { label: [`vic-kubelet.io/node=${nodeName}`] } });
  for (const v of volumes.Volumes ?? []) {
    await docker()
      .getVolume(v.Name)
      .remove({ force: true })
      .catch(() => undefined);
  }
}
