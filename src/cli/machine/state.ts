// Where vic-machine keeps what it created, one folder per virtual node, on a disk that survives a
// reboot:
//   $VIC_MACHINE_STATE_DIR, else /var/lib/vic-machine as root, else $XDG_STATE_HOME/vic-machine
//   (~/.local/state/vic-machine)
//     <name>/machine.json      what `create` was given (endpoints, TLS file paths, flags)
//     <name>/vic-kubelet.json  the vic-kubelet config file the supervisor runs it with
//     <name>/vic-kubelet.log   vic-kubelet's output (the previous one in vic-kubelet.log.1)
//     <name>/supervisor.log    the supervisor's own lines (starts, exits, restarts)
//     <name>/supervisor.pid, vic-kubelet.pid, status.json (restarts, last exit)
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { VicError } from '../../shared/errors.js';

export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIC_MACHINE_STATE_DIR) return env.VIC_MACHINE_STATE_DIR;
  if (process.getuid?.() === 0) return '/var/lib/vic-machine';
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'vic-machine');
}

export const machineSchema = z
  .object({
    name: z.string(),
    createdAt: z.string(),
    version: z.string(),
    target: z.string(),
    tls: z
      .object({
        ca: z.string().optional(),
        serverCert: z.string().optional(),
        clientCert: z.string().optional(),
        clientKey: z.string().optional(),
        noVerify: z.boolean(),
      })
      .strict(),
    k8sServerAddress: z.string(),
    k8sConfig: z.string(),
    kubeletPort: z.number().int(),
  })
  .strict();

export type MachineRecord = z.infer<typeof machineSchema>;

export interface SupervisorStatus {
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  kubeletStartedAt?: string;
}

/** The files of one virtual node's state folder. */
export class MachineState {
  readonly dir: string;

  constructor(
    readonly root: string,
    readonly name: string,
  ) {
    this.dir = join(root, name);
  }

  get machineFile(): string {
    return join(this.dir, 'machine.json');
  }
  get kubeletConfigFile(): string {
    return join(this.dir, 'vic-kubelet.json');
  }
  get kubeletLog(): string {
    return join(this.dir, 'vic-kubelet.log');
  }
  get supervisorLog(): string {
    return join(this.dir, 'supervisor.log');
  }
  get supervisorPidFile(): string {
    return join(this.dir, 'supervisor.pid');
  }
  get kubeletPidFile(): string {
    return join(this.dir, 'vic-kubelet.pid');
  }
  get statusFile(): string {
    return join(this.dir, 'status.json');
  }

  exists(): boolean {
    return existsSync(this.machineFile);
  }

  read(): MachineRecord {
    if (!this.exists()) throw new VicError('NotFound', `no virtual node "${this.name}" in ${this.root}`);
    const parsed = machineSchema.safeParse(JSON.parse(readFileSync(this.machineFile, 'utf8')));
    if (!parsed.success)
      throw new VicError('Invalid', `${this.machineFile} is damaged: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  write(record: MachineRecord, kubeletConfig: unknown): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeAtomically(this.machineFile, JSON.stringify(record, null, 2) + '\n');
    writeAtomically(this.kubeletConfigFile, JSON.stringify(kubeletConfig, null, 2) + '\n');
  }

  status(): SupervisorStatus {
    try {
      return JSON.parse(readFileSync(this.statusFile, 'utf8')) as SupervisorStatus;
    } catch {
      return { restarts: 0 };
    }
  }

  writeStatus(status: SupervisorStatus): void {
    writeAtomically(this.statusFile, JSON.stringify(status) + '\n');
  }

  /** The PID in a pid file, when that process is alive. */
  livePid(file: string): number | undefined {
    let pid: number;
    try {
      pid = Number(readFileSync(file, 'utf8').trim());
    } catch {
      return undefined;
    }
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  }

  supervisorPid(): number | undefined {
    return this.livePid(this.supervisorPidFile);
  }

  kubeletPid(): number | undefined {
    return this.livePid(this.kubeletPidFile);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeAtomically(file: string, contents: string): void {
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, contents, { mode: 0o600 });
  renameSync(temp, file);
}

/** Every virtual node with a state folder under root. */
export function listMachines(root: string): MachineState[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => new MachineState(root, d.name))
    .filter((s) => s.exists())
    .sort((a, b) => a.name.localeCompare(b.name));
}
