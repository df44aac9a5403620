// What a bench run must undo, even when interrupted: every step that creates something registers its
// undo here; they run in reverse order at the end, or on SIGINT/SIGTERM before the process exits. A
// 500-pod burst left behind would slow every other user of the shared engine.
import { docker } from '../../test/support/env.js';

type Undo = { what: string; run: () => Promise<unknown> };

const undos: Undo[] = [];
let running: Promise<void> | undefined;

/** Registers an undo; returns a function that runs it now (and unregisters it). */
export function onCleanup(what: string, run: () => Promise<unknown>): () => Promise<void> {
  const undo: Undo = { what, run };
  undos.push(undo);
  return async () => {
    const at = undos.indexOf(undo);
    if (at >= 0) undos.splice(at, 1);
    await run();
  };
}

/** Runs every registered undo, newest first; one failing does not stop the others. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (undos.length) {
      const undo = undos.pop()!;
      try {
        await undo.run();
      } catch (error) {
        console.error(`clean-up "${undo.what}" failed: ${(error as Error).message}`);
      }
    }
  })();
  return running;
}

let installed = false;

/** On SIGINT or SIGTERM: clean up, then exit 130/143. */
export function cleanupOnSignals(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up (pods, pod VMs, raw containers) before exiting`);
      void cleanupAll().finally(() => process.exit(code));
    });
  }
}

/** The label on every container the bench makes straight on the engine. */
export const rawLabel = 'vic-bench';

/** Removes every raw-engine container of this run (or of any run, when no id is given). */
export async function removeRawContainers(runId?: string): Promise<number> {
  const filter = runId ? `${rawLabel}=${runId}` : rawLabel;
  const left = await docker().listContainers({ all: true, filters: { label: [filter] } });
  await Promise.all(
    left.map((c) =>
      docker()
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  return left.length;
}
