// Starting and stopping the detached supervisor of a virtual node, and the command lines of the
// supervisor and of vic-kubelet (the same Node.js, the same loader flags, files beside this one).
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VicError } from '../../shared/errors.js';
import { isAlive, type MachineState } from './state.js';
import type { Command } from './supervisor.js';

const cliDir = join(dirname(fileURLToPath(import.meta.url)), '..');
// .ts when run through tsx from a checkout, .js when compiled.
const ext = extname(fileURLToPath(import.meta.url));

function nodeCommand(entry: string, args: string[]): Command {
  return { file: process.execPath, args: [...process.execArgv, join(cliDir, `${entry}${ext}`), ...args] };
}

export function kubeletCommand(state: MachineState): Command {
  return nodeCommand('vic-kubelet', ['--config', state.kubeletConfigFile]);
}

/** Starts the supervisor detached from this process and its terminal; returns its PID. */
export function startSupervisor(state: MachineState): number {
  const running = state.supervisorPid();
  if (running !== undefined) return running;
  const log = openSync(state.supervisorLog, 'a');
  const command = nodeCommand('vic-machine', ['--state-dir', state.root, 'supervise', '--name', state.name]);
  const child = spawn(command.file, command.args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  if (child.pid === undefined)
    throw new VicError('Internal', `could not start the supervisor of ${state.name}`);
  return child.pid;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops the supervisor (which stops vic-kubelet) and waits until both are gone. */
export async function stopSupervisor(state: MachineState, timeoutMs = 40_000): Promise<void> {
  const supervisor = state.supervisorPid();
  const kubelet = state.kubeletPid();
  if (supervisor !== undefined) process.kill(supervisor, 'SIGTERM');
  else if (kubelet !== undefined) process.kill(kubelet, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  const alive = () => [supervisor, kubelet].filter((p): p is number => p !== undefined && isAlive(p));
  while (alive().length > 0 && Date.now() < deadline) await sleep(100);
  for (const pid of alive()) process.kill(pid, 'SIGKILL');
}
