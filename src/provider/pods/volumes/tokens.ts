// Service-account tokens for projected volumes, from the TokenRequest API, bound to the pod (so the
// API server rejects them once the pod is gone), cached and renewed at 80% of their life, as the
// kubelet's token manager does (pkg/kubelet/token/token_manager.go). Tokens never reach a log.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../../shared/clock.js';
import { VicError } from '../../../shared/errors.js';
import { callApi } from '../../kube/api-errors.js';

export interface TokenRequestSpec {
  audience?: string;
  expirationSeconds: number;
}

export interface TokenSource {
  token(pod: V1Pod, spec: TokenRequestSpec): Promise<string>;
  /** When the earliest cached token of the pod wants renewing (ms since epoch), if it has any. */
  renewAt(uid: string): number | undefined;
  forget(uid: string): void;
}

interface Cached {
  token: string;
  renewAtMs: number;
  uid: string;
}

// The kubelet also renews a token older than 24 hours, whatever it was issued for.
const maxTtlMs = 24 * 3600 * 1000;

export class TokenManager implements TokenSource {
  readonly #core: CoreV1Api;
  readonly #clock: Clock;
  readonly #cache = new Map<string, Cached>();

  constructor(core: CoreV1Api, clock: Clock) {
    this.#core = core;
    this.#clock = clock;
  }

  async token(pod: V1Pod, spec: TokenRequestSpec): Promise<string> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const account = pod.spec?.serviceAccountName || 'default';
    const key = [namespace, account, spec.audience ?? '', spec.expirationSeconds, uid].join('/');
    const now = this.#clock.now();
    const hit = this.#cache.get(key);
    if (hit && now < hit.renewAtMs) return hit.token;
    const response = await callApi(`request a token for service account ${namespace}/${account}`, () =>
      this.#core.createNamespacedServiceAccountToken({
        name: account,
        namespace,
        body: {
          spec: {
            audiences: spec.audience ? [spec.audience] : [],
            expirationSeconds: spec.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid },
          },
        },
      }),
    );
    const token = response.status?.token;
    if (!token) throw new VicError('Internal', `the API server issued no token for ${namespace}/${account}`);
    // The API server may extend a token's life (--service-account-extend-token-expiration); renew
    // by the life that was asked for, so rotation happens as the pod expects.
    const issuedExpiry =
      response.status?.expirationTimestamp?.getTime() ?? now + spec.expirationSeconds * 1000;
    const expiry = Math.min(issuedExpiry, now + spec.expirationSeconds * 1000);
    const renewAtMs = Math.min(now + 0.8 * (expiry - now), now + maxTtlMs);
    this.#cache.set(key, { token, renewAtMs, uid });
    return token;
  }

  renewAt(uid: string): number | undefined {
    let earliest: number | undefined;
    for (const c of this.#cache.values()) {
      if (c.uid === uid && (earliest === undefined || c.renewAtMs < earliest)) earliest = c.renewAtMs;
    }
    return earliest;
  }

  forget(uid: string): void {
    for (const [key, c] of this.#cache) if (c.uid === uid) this.#cache.delete(key);
  }
}
