// kubectl as a live process, for the commands a user watches while they run (logs -f, attach,
// port-forward, exec with stdin): binary-safe stdin and stdout, output read as it arrives, and runs
// inside a real pseudo-terminal (util-linux `script`) for `-it`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testEnv } from './env.js';

const execFileAsync = promisify(execFile);

/** The kubectl binary for `version` (an installed kubectl.1.NN), or the one built with the control plane. */
export function kubectlBinary(version?: string): string {
  return version
    ? join(process.env.VK_KUBECTL_VERSIONS_DIR ?? '/usr/lib/google-cloud-sdk/bin', `kubectl.${version}`)
    : join(testEnv.binDir, 'kubectl');
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running process whose output a test can wait on without consuming it. */
export class LiveProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly #out: Buffer[] = [];
  readonly #err: Buffer[] = [];
  #exit: Exit | undefined;
  #waiters: Array<() => void> = [];

  constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.#push(this.#out, chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#push(this.#err, chunk));
    // A write after the process is gone must fail the test through its assertions, not crash it.
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.#exit = { code, signal };
        this.#wake();
        resolve(this.#exit);
      });
    });
  }

  #push(into: Buffer[], chunk: Buffer): void {
    into.push(chunk);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  get stdout(): Buffer {
    return Buffer.concat(this.#out);
  }

  get stderr(): string {
    return Buffer.concat(this.#err).toString('utf8');
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** What the process printed so far, for an assertion's message. */
  describe(): string {
    return `stdout: ${JSON.stringify(this.stdout.toString('utf8'))}\nstderr: ${JSON.stringify(this.stderr)}`;
  }

  /**
   * Resolves with stdout (or stderr) once it matches; rejects when the process exits first or after
   * `timeoutMs`.
   */
  async until(
    match: string | RegExp,
    options: { stream?: 'stdout' | 'stderr'; timeoutMs?: number } = {},
  ): Promise<string> {
    const read = () => (options.stream === 'stderr' ? this.stderr : this.stdout.toString('utf8'));
    const matches = () => {
      const text = read();
      return typeof match === 'string' ? text.includes(match) : match.test(text);
    };
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (!matches()) {
      if (!this.running)
        throw new Error(`exited (${JSON.stringify(this.#exit)}) before ${match}\n${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${match}\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return read();
  }

  write(data: string | Buffer): void {
    this.child.stdin?.write(data);
  }

  end(data?: string | Buffer): void {
    if (data === undefined) this.child.stdin?.end();
    else this.child.stdin?.end(data);
  }

  /** Waits for the exit, failing after `timeoutMs` (the process is then killed). */
  async exit(timeoutMs = 60_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`no exit within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the process (if still running) and waits for it to go. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    this.kill(signal);
    return this.exited;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }
}

/** Starts kubectl against the test control plane with piped stdin, stdout and stderr. */
export function startKubectl(args: string[], options: { version?: string } = {}): LiveProcess {
  const child = spawn(kubectlBinary(options.version), ['--kubeconfig', testEnv.kubeconfig, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new LiveProcess(child);
}

/** Quotes one word for sh. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** kubectl in a pseudo-terminal, which the test can resize as a user resizes their window. */
export class PtyProcess extends LiveProcess {
  /** The terminal's device, printed by the wrapper before kubectl starts. */
  async device(): Promise<string> {
    const out = await this.until(/pty:(\S+)\r?\n/);
    const device = /pty:(\S+)\r?\n/.exec(out)?.[1];
    if (!device) throw new Error(`no terminal device in ${JSON.stringify(out)}`);
    return device;
  }

  /** Sets the terminal's size; the kernel then sends SIGWINCH to kubectl, as a window resize does. */
  async resize(rows: number, cols: number): Promise<void> {
    await execFileAsync('stty', ['-F', await this.device(), 'rows', String(rows), 'cols', String(cols)]);
  }
}

/**
 * Starts kubectl inside a new pseudo-terminal of `rows` x `cols`, as from an interactive shell: `script`
 * (util-linux) owns the terminal and passes our stdin to it; its exit code is kubectl's. The terminal
 * echoes and translates newlines like any terminal, so expect `\r\n` in the output.
 */
export function startKubectlInPty(
  args: string[],
  options: { version?: string; rows?: number; cols?: number } = {},
): PtyProcess {
  const kubectl = [kubectlBinary(options.version), '--kubeconfig', testEnv.kubeconfig, ...args]
    .map(shellQuote)
    .join(' ');
  const size = `stty rows ${options.rows ?? 24} cols ${options.cols ?? 80}`;
  const child = spawn('script', ['-qfec', `echo "pty:$(tty)"; ${size}; exec ${kubectl}`, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new PtyProcess(child);
}
