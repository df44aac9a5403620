// The supervisor of one virtual node: a small detached process that runs vic-kubelet, keeps its
// output in the state folder, and starts it again with a capped back-off whenever it exits, until it
// is told to stop (SIGTERM or SIGINT, which it passes on). vic-kubelet rebuilds its state from the VCH
// and the API server when it starts, so a restart loses no pod.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, closeSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { MachineState, SupervisorStatus } from './state.js';

export interface Command {
  file: string;
  args: string[];
}

export interface BackOff {
  initialMs: number;
  maxMs: number;
  /** A run this long counts as healthy: the next exit starts the curve again. */
  resetAfterMs: number;
}

export const defaultBackOff: BackOff = { initialMs: 1000, maxMs: 60_000, resetAfterMs: 120_000 };
const maxLogBytes = 20 * 1024 * 1024;

/** The delay before restart number `failures` (1, 2, ...): doubling from initialMs, capped. */
export function restartDelay(failures: number, backOff: BackOff = defaultBackOff): number {
  return Math.min(backOff.maxMs, backOff.initialMs * 2 ** Math.max(0, failures - 1));
}

/**
 * The environment vic-kubelet runs with: the supervisor's own, less the variables that would override
 * its config file (VK_*, and the ones its defaults read), so the state folder alone decides.
 */
export function kubeletEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('VK_') || ['KUBECONFIG', 'DOCKER_HOST', 'LOG_LEVEL'].includes(key)) continue;
    out[key] = value;
  }
  // The log file is read by people and by `vic-machine inspect`; JSON keeps every field.
  out.VK_LOG_FORMAT = 'json';
  return out;
}

export async function runSupervisor(options: {
  state: MachineState;
  kubelet: Command;
  backOff?: BackOff;
}): Promise<void> {
  const { state } = options;
  const backOff = options.backOff ?? defaultBackOff;
  const log = (message: string) =>
    appendFileSync(state.supervisorLog, `${new Date().toISOString()} ${message}\n`);
  writeFileSync(state.supervisorPidFile, `${process.pid}\n`);

  let stopping = false;
  let child: ChildProcess | undefined;
  let wake: (() => void) | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping vic-kubelet`);
    wake?.();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => child?.kill('SIGKILL'), 30_000).unref();
    }
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined); // the terminal that ran `create` may close

  const status: SupervisorStatus = { ...state.status() };
  let failures = 0;
  while (!stopping) {
    rotate(state.kubeletLog);
    const out = openSync(state.kubeletLog, 'a');
    const started = Date.now();
    child = spawn(options.kubelet.file, options.kubelet.args, {
      stdio: ['ignore', out, out],
      env: kubeletEnvironment(process.env),
    });
    closeSync(out);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    if (child.pid !== undefined) writeFileSync(state.kubeletPidFile, `${child.pid}\n`);
    status.kubeletStartedAt = new Date(started).toISOString();
    state.writeStatus(status);
    log(`started vic-kubelet (pid ${child.pid ?? '?'})`);
    const [code, signal] = await exited;
    rmSync(state.kubeletPidFile, { force: true });
    log(`vic-kubelet exited (code ${code ?? '-'}, signal ${signal ?? '-'})`);
    if (stopping) break;
    failures = Date.now() - started >= backOff.resetAfterMs ? 1 : failures + 1;
    status.restarts += 1;
    status.lastExit = { code, signal, at: new Date().toISOString() };
    state.writeStatus(status);
    const delay = restartDelay(failures, backOff);
    log(`restarting vic-kubelet in ${delay} ms (restart ${status.restarts})`);
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, delay);
    });
  }
  rmSync(state.supervisorPidFile, { force: true });
  log('stopped');
}

/** Keeps one previous log: vic-kubelet.log.1. */
function rotate(file: string): void {
  try {
    if (statSync(file).size > maxLogBytes) renameSync(file, `${file}.1`);
  } catch {
    // No log yet.
  }
}
