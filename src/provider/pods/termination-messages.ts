// The message of a terminated container, as the kubelet fills it (pkg/kubelet/kuberuntime/
// kuberuntime_container.go): the file at terminationMessagePath, read from the stopped container over
// the VCH (at most 4096 bytes), else with FallbackToLogsOnError and a failure, the last 80 lines
// (at most 2048 bytes) of its log. Read once per container and kept by container ID.
import type { Readable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.js';
import { messageOf } from '../../shared/errors.js';
import type { PodVmStatus } from '../../vch/types.js';

export const maxMessageBytes = 4096;
export const fallbackLogLines = 80;
export const fallbackLogBytes = 2048;

export interface TerminationMessagesOptions {
  readFile: (id: string, path: string, maxBytes: number) => Promise<string | undefined>;
  logs?: (
    target: { uid: string; containerName: string },
    options: { tailLines: number; limitBytes: number },
  ) => Promise<Readable>;
  logger: Logger;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export class TerminationMessages {
  readonly #o: TerminationMessagesOptions;
  readonly #byId = new Map<string, string>();
  readonly #idsByPod = new Map<string, Set<string>>();

  constructor(options: TerminationMessagesOptions) {
    this.#o = options;
  }

  /** The message of a terminated container; undefined when it left none (or it was not read yet). */
  readonly message = (id: string): string | undefined => this.#byId.get(id) || undefined;

  /** Reads the message of every container of the pod that terminated since the last look. */
  async collect(pod: V1Pod, vm: PodVmStatus | undefined): Promise<void> {
    if (!vm) return;
    const uid = pod.metadata?.uid ?? '';
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    // Each terminated container, and the previous attempt of each (its message is lastState's).
    const ended = [...vm.initContainers, ...vm.containers].flatMap((s) => [
      ...(s.state.kind === 'terminated' ? [{ status: s, id: s.id, state: s.state }] : []),
      ...(s.lastStateId && s.lastState?.kind === 'terminated'
        ? [{ status: s, id: s.lastStateId, state: s.lastState }]
        : []),
    ]);
    for (const { status, id, state } of ended) {
      if (this.#byId.has(id)) continue;
      const spec = specs.find((c) => c.name === status.name);
      if (!spec) continue;
      let message: string | undefined;
      const path = spec.terminationMessagePath ?? '/dev/termination-log';
      try {
        if (path) message = await this.#o.readFile(id, path, maxMessageBytes);
        if (
          !message &&
          spec.terminationMessagePolicy === 'FallbackToLogsOnError' &&
          state.exitCode !== 0 &&
          // The log read is the newest attempt's: a previous attempt's cannot be told apart.
          id === status.id
        ) {
          const stream = await this.#o.logs?.(
            { uid, containerName: status.name },
            { tailLines: fallbackLogLines, limitBytes: fallbackLogBytes },
          );
          if (stream) message = await text(stream);
        }
      } catch (err) {
        // Not recorded: the next pass tries again.
        this.#o.logger.warn(
          { pod: pod.metadata?.name, container: status.name, err: messageOf(err) },
          'termination message not read',
        );
        continue;
      }
      this.#byId.set(id, message ?? '');
      let ids = this.#idsByPod.get(uid);
      if (!ids) this.#idsByPod.set(uid, (ids = new Set()));
      ids.add(id);
    }
  }

  forget(uid: string): void {
    for (const id of this.#idsByPod.get(uid) ?? []) this.#byId.delete(id);
    this.#idsByPod.delete(uid);
  }
}
