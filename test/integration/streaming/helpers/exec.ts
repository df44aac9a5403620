// Shared steps of the streaming integration tests: run one exec through the Go peer and read its outcome.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runPeer, type PeerRun } from './peer.js';

export interface ExecOutcome {
  readonly exitCode?: number;
  readonly message?: string;
  readonly error?: string;
}

/** Runs `spdy-client exec` and returns its process result with the outcome it wrote. */
export async function execThroughPeer(
  url: string,
  flags: readonly string[],
  stdin?: Buffer,
): Promise<{ run: PeerRun; outcome: ExecOutcome }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vic-kubelet-peer-'));
  try {
    const result = path.join(dir, 'result.json');
    const run = await runPeer(['exec', '--url', url, '--result', result, ...flags], stdin);
    if (run.code !== 0) throw new Error(`peer failed (${run.code}): ${run.stderr.toString()}`);
    return { run, outcome: JSON.parse(await readFile(result, 'utf8')) as ExecOutcome };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function query(params: Record<string, string | readonly string[]>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of typeof value === 'string' ? [value] : value) search.append(name, item);
  }
  return search.toString();
}
