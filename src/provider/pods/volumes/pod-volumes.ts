// A pod's volumes through its life: the VCH volumes exist before the sandbox that mounts them;
// content volumes are written before any container starts, and rewritten (atomically, by src/vch)
// when their sources change or a token nears its renewal, on a periodic pass as the kubelet's
// volume manager does (its sync period is about a minute).
import type { CoreV1Api, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { Clock } from '../../../shared/clock.js';
import { messageOf } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import type { VchVolumes } from '../../../vch/index.js';
import type { EventRecorder } from '../../kube/event-recorder.js';
import type { ConfigSources } from '../config-sources.js';
import type { DownwardContext } from '../downward-api.js';
import { fsGroupOf, isContentVolume, volumeFiles } from './content.js';
import { podVolumeSpecs, type ClaimSources } from './plan.js';
import { TokenManager, type TokenSource } from './tokens.js';

/** How often a running pod's content volumes are compared with their sources. */
export const volumeResyncMs = 30_000;
const mountRetryMs = 5_000;

export interface PodVolumeManagerOptions {
  vch: VchVolumes;
  core: CoreV1Api;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  tokens?: TokenSource;
}

export type PopulateResult =
  { ok: true; resyncAfterMs?: number } | { ok: false; message: string; retryAfterMs: number };

function emptyDirRoots(volumes: readonly V1Volume[], owner: { gid?: number }) {
  return volumes
    .filter((v) => v.emptyDir && v.emptyDir.medium !== 'Memory')
    .map((v) => ({ volume: v.name, ...owner }));
}

/**
 * Under fsGroup, a claim's root as the kubelet's SetVolumeOwnership leaves it (pkg/volume/
 * volume_linux.go): group fsGroup, setgid, group read and search, and write unless every mount of
 * it is read-only (a new VCH volume's root is 0755, so 02775 or 02755). Only the root: the
 * archive endpoint cannot change the owner of files already in the volume without rewriting them,
 * and files made later inherit the group through setgid.
 */
function claimRoots(pod: V1Pod, gid: number | undefined, claims: ClaimSources | undefined) {
  if (gid === undefined || !claims) return [];
  const spec = pod.spec;
  const mounts = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].flatMap(
    (c) => c.volumeMounts ?? [],
  );
  return (spec?.volumes ?? []).flatMap((v) => {
    const source = v.persistentVolumeClaim ? claims.get(v.name) : undefined;
    if (!source) return [];
    const writable =
      !v.persistentVolumeClaim?.readOnly && mounts.some((m) => m.name === v.name && !m.readOnly);
    return [{ volume: v.name, gid, mode: writable ? 0o775 : 0o755, source }];
  });
}

export class PodVolumeManager {
  readonly #o: PodVolumeManagerOptions;
  readonly #tokens: TokenSource;
  readonly #log: Logger;

  constructor(options: PodVolumeManagerOptions) {
    this.#o = options;
    this.#tokens = options.tokens ?? new TokenManager(options.core, options.clock);
    this.#log = options.logger.child({ component: 'volumes' });
  }

  /** Creates the pod's VCH volumes (idempotent); called before its sandbox is created. */
  async ensureVolumes(pod: V1Pod, claims?: ClaimSources): Promise<void> {
    const volumes = podVolumeSpecs(pod, claims);
    if (volumes.length === 0) return;
    const meta = pod.metadata ?? {};
    await this.#o.vch.ensure(
      { namespace: meta.namespace ?? '', name: meta.name ?? '', uid: meta.uid ?? '' },
      volumes,
    );
  }

  /**
   * Writes every content volume through the sandbox; on a new sandbox also sets the emptyDir roots
   * as a kubelet makes them. A source that is missing (and not optional) fails the whole pass with
   * the kubelet's FailedMount event; what was written stays.
   */
  async populate(
    pod: V1Pod,
    options: {
      sandboxId: string;
      freshSandbox: boolean;
      sources: ConfigSources;
      downward: DownwardContext;
      /** The store volumes behind the pod's claims. */
      claims?: ClaimSources;
    },
  ): Promise<PopulateResult> {
    const volumes = pod.spec?.volumes ?? [];
    const uid = pod.metadata?.uid ?? '';
    const gid = fsGroupOf(pod);
    const owner = gid !== undefined ? { gid } : {};
    const roots = options.freshSandbox
      ? [...emptyDirRoots(volumes, owner), ...claimRoots(pod, gid, options.claims)]
      : [];
    const content = volumes.filter(isContentVolume);
    if (content.length === 0 && roots.length === 0) return { ok: true };
    if (!options.sandboxId)
      return { ok: false, message: 'the pod VM has no sandbox yet', retryAfterMs: mountRetryMs };
    const contents = [];
    for (const v of content) {
      try {
        const files = await volumeFiles(v, {
          ...options.downward,
          sources: options.sources,
          tokens: this.#tokens,
          ...(gid !== undefined ? { fsGroup: gid } : {}),
        });
        contents.push({ volume: v.name, files, ...owner });
      } catch (err) {
        const message = `MountVolume.SetUp failed for volume "${v.name}" : ${messageOf(err)}`;
        this.#o.recorder.record(pod, { type: 'Warning', reason: 'FailedMount', message });
        return { ok: false, message, retryAfterMs: mountRetryMs };
      }
    }
    // One archive for the whole pass: each putArchive costs the VCH a mount of the sandbox.
    const written = await this.#o.vch.write({
      sandboxId: options.sandboxId,
      fresh: options.freshSandbox,
      roots,
      contents,
    });
    // Names only: content (secrets, tokens) never reaches a log.
    if (written.length)
      this.#log.debug({ pod: pod.metadata?.name, volumes: written }, 'volume content written');
    if (content.length === 0) return { ok: true };
    const renewAt = this.#tokens.renewAt(uid);
    const untilRenewal = renewAt !== undefined ? Math.max(0, renewAt - this.#o.clock.now()) : volumeResyncMs;
    return { ok: true, resyncAfterMs: Math.min(volumeResyncMs, untilRenewal) };
  }

  /** Drops what is kept in memory for a pod that is gone. */
  forget(uid: string, sandboxId?: string): void {
    this.#tokens.forget(uid);
    if (sandboxId) this.#o.vch.forget(sandboxId);
  }
}
