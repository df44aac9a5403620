// The raw engine's side of bench/probes.ts: the same exec a probe runs, as `docker exec` drives the
// Docker API (create, start with the connection taken over, inspect for the exit code), with nothing
// of vic-kubelet in between. Its figures are what the engine alone costs at a given rate.
import http from 'node:http';
import type { Socket } from 'node:net';

export class RawExec {
  readonly #socketPath: string;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(socketPath: string) {
    this.#socketPath = socketPath;
  }

  #json(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.#socketPath,
        agent: this.#agent,
        method,
        path,
        headers: data
          ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }
          : {},
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
        );
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Runs `command` in the container; resolves with its exit code, rejects after `timeoutMs` as a probe does. */
  async run(containerId: string, command: string[], timeoutMs = 5000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.#run(containerId, command), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #run(containerId: string, command: string[]): Promise<number> {
    const created = await this.#json('POST', `/containers/${containerId}/exec`, {
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
    });
    if (created.status !== 201) throw new Error(`exec create: HTTP ${created.status}`);
    const id = (created.json as { Id: string }).Id;
    const body = JSON.stringify({ Detach: false, Tty: false });
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = http.request({
        socketPath: this.#socketPath,
        method: 'POST',
        path: `/exec/${id}/start`,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          Connection: 'Upgrade',
          Upgrade: 'tcp',
        },
      });
      req.on('upgrade', (_res, s) => resolve(s));
      req.on('response', (res) => reject(new Error(`exec start: HTTP ${res.statusCode}`)));
      req.on('error', reject);
      req.end(body);
    });
    socket.resume();
    await new Promise((resolve) => socket.on('close', resolve));
    for (let pause = 5; ; pause *= 2) {
      const state = (await this.#json('GET', `/exec/${id}/json`)).json as {
        Running: boolean;
        ExitCode: number;
      };
      if (!state.Running || pause > 640) return state.ExitCode;
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}
