// Image pulls as the kubelet reports them: Pulling/Pulled events, ErrImagePull on a failure, then
// ImagePullBackOff while a back-off (10 s doubling to 5 min) holds the next try, InvalidImageName and
// ErrImageNeverPull without retry. The back-off is the one piece of pod state kept in memory: after a
// restart of vic-kubelet a failing pull is simply tried again, as a kubelet restart would.
import type { V1Pod } from '@kubernetes/client-node';
import { findVicError, hasCode, messageOf } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import { backoffDelayMs } from './backoff-curve.js';
import type { VchImages } from '../../vch/index.js';
import type { PullPolicy, RegistryCredential } from '../../vch/types.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import type { Waiting } from './pod-status.js';
import type { PullCredentials } from './pull-secrets.js';

/** After a failed inspect (the VCH did not answer), the next try. */
const inspectRetryMs = 5_000;

interface PullFailure {
  failures: number;
  retryAtMs: number;
  message: string;
}

export type PullOutcome = { ok: true } | { ok: false; waiting: Waiting; retryAfterMs?: number };

export function effectivePolicy(image: string, policy: string | undefined): PullPolicy {
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return policy;
  const lastPart = image.split('/').pop() ?? image;
  const tagged = lastPart.includes(':') || image.includes('@');
  return !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

export class ImagePulls {
  readonly #images: VchImages;
  readonly #recorder: EventRecorder;
  readonly #clock: Clock;
  readonly #failures = new Map<string, PullFailure>();

  constructor(options: { images: VchImages; recorder: EventRecorder; clock: Clock }) {
    this.#images = options.images;
    this.#recorder = options.recorder;
    this.#clock = options.clock;
  }

  /** Makes the image of one container present, as its pull policy says. */
  async ensure(
    pod: V1Pod,
    container: { name: string; image: string; policy: PullPolicy; fieldPath: string },
    credentials: PullCredentials | readonly RegistryCredential[],
  ): Promise<PullOutcome> {
    const key = `${pod.metadata?.uid}/${container.name}`;
    const { image, fieldPath } = container;
    const failed = this.#failures.get(key);
    const now = this.#clock.now();
    if (failed && failed.retryAtMs > now) {
      return {
        ok: false,
        waiting: {
          reason: 'ImagePullBackOff',
          message: `Back-off pulling image "${image}": ${failed.message}`,
        },
        retryAfterMs: failed.retryAtMs - now,
      };
    }
    let present;
    try {
      present = await this.#images.inspect(image);
    } catch (err) {
      // The VCH did not answer: that is not "absent". The kubelet's ImageInspectError, retried soon.
      // Any other answer (a malformed name) is the pull's to classify, with the reason it gives.
      if (!hasCode(err, 'VchUnavailable', 'Timeout')) present = undefined;
      else {
        const message = `Failed to inspect image "${image}": ${messageOf(err)}; the pull waits until the VCH answers`;
        this.#recorder.record(pod, { type: 'Warning', reason: 'InspectFailed', message, fieldPath });
        return { ok: false, waiting: { reason: 'ImageInspectError', message }, retryAfterMs: inspectRetryMs };
      }
    }
    if (present && container.policy !== 'Always') {
      this.#failures.delete(key);
      this.#recorder.record(pod, {
        type: 'Normal',
        reason: 'Pulled',
        message: `Container image "${image}" already present on machine`,
        fieldPath,
      });
      return { ok: true };
    }
    if (container.policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.#recorder.record(pod, { type: 'Warning', reason: 'ErrImageNeverPull', message, fieldPath });
      return { ok: false, waiting: { reason: 'ErrImageNeverPull', message } };
    }
    const problems = 'problems' in credentials ? (credentials.problems ?? []) : [];
    if (problems.length > 0) {
      // As the kubelet's getPullSecretsForPod; with what to fix.
      this.#recorder.record(pod, {
        type: 'Warning',
        reason: 'FailedToRetrieveImagePullSecret',
        message: `Unable to retrieve some image pull secrets; attempting to pull the image may not succeed: ${problems.join('; ')}`,
      });
    }
    this.#recorder.record(pod, {
      type: 'Normal',
      reason: 'Pulling',
      message: `Pulling image "${image}"`,
      fieldPath,
    });
    const started = this.#clock.now();
    try {
      const info = await this.#images.ensure(image, { policy: 'Always', credentials });
      this.#failures.delete(key);
      const took = `${((this.#clock.now() - started) / 1000).toFixed(3)}s`;
      this.#recorder.record(pod, {
        type: 'Normal',
        reason: 'Pulled',
        message: `Successfully pulled image "${image}" in ${took} (${info.id})`,
        fieldPath,
      });
      return { ok: true };
    } catch (err) {
      const code = findVicError(err)?.code;
      const message = messageOf(err);
      if (code === 'InvalidImageName') {
        const text = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
        this.#recorder.record(pod, { type: 'Warning', reason: 'InspectFailed', message: text, fieldPath });
        this.#recorder.record(pod, {
          type: 'Warning',
          reason: 'Failed',
          message: 'Error: InvalidImageName',
          fieldPath,
        });
        return { ok: false, waiting: { reason: 'InvalidImageName', message: text } };
      }
      const failures = (failed?.failures ?? 0) + 1;
      const delayMs = backoffDelayMs(failures);
      this.#failures.set(key, { failures, retryAtMs: this.#clock.now() + delayMs, message });
      this.#recorder.record(pod, {
        type: 'Warning',
        reason: 'Failed',
        message: `Failed to pull image "${image}": ${message}`,
        fieldPath,
      });
      this.#recorder.record(pod, {
        type: 'Warning',
        reason: 'Failed',
        message: 'Error: ErrImagePull',
        fieldPath,
      });
      this.#recorder.record(pod, {
        type: 'Normal',
        reason: 'BackOff',
        message: `Back-off pulling image "${image}"`,
        fieldPath,
      });
      return { ok: false, waiting: { reason: 'ErrImagePull', message }, retryAfterMs: delayMs };
    }
  }

  /** Forgets the back-offs of a pod that is gone. */
  forget(uid: string): void {
    for (const key of this.#failures.keys()) if (key.startsWith(`${uid}/`)) this.#failures.delete(key);
  }
}
