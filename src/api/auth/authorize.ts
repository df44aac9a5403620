// What an authenticated caller may do: a SubjectAccessReview on nodes/<subresource> named after this
// node, with the attributes the kubelet derives from the request (pkg/kubelet/server/auth.go, with
// KubeletFineGrainedAuthz, GA since 1.36), and the kubelet's answers when it says no.
import { ApiException, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../../shared/clock.js';
import { VicError, messageOf } from '../../shared/errors.js';
import type { UserInfo } from './authenticate.js';
import { TtlCache } from './ttl-cache.js';

export interface AccessAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
}

/** Asks whether `user` may do `attributes`; throws when it cannot tell. */
export interface AccessReviewer {
  allowed(user: UserInfo, attributes: AccessAttributes): Promise<boolean>;
}

export type Decision =
  | { allowed: true; attributes: AccessAttributes }
  | { allowed: false; status: 403 | 500; message: string; error?: unknown };

const verbs: Record<string, string> = {
  GET: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** Like the kubelet's isSubpath: `/stats` and `/stats/summary` are under `/stats/`, `/statsfoo` is not. */
function isSubpath(path: string, base: string): boolean {
  const trimmed = base.endsWith('/') ? base.slice(0, -1) : base;
  return path === trimmed || path.startsWith(`${trimmed}/`);
}

/**
 * The subresources to try, in order: a fine-grained one where the kubelet has it (pods, healthz), then
 * proxy as the fallback; stats, metrics and log have no fallback.
 */
export function subresourcesFor(path: string): string[] {
  if (isSubpath(path, '/stats/')) return ['stats'];
  if (isSubpath(path, '/metrics')) return ['metrics'];
  if (isSubpath(path, '/logs/')) return ['log'];
  if (isSubpath(path, '/pods') || isSubpath(path, '/runningpods/')) return ['pods', 'proxy'];
  if (isSubpath(path, '/healthz')) return ['healthz', 'proxy'];
  return ['proxy'];
}

/** The API verb of an HTTP method; empty for methods the kubelet does not map (they are denied). */
export function verbFor(method: string | undefined): string {
  return verbs[(method ?? '').toUpperCase()] ?? '';
}

/** SubjectAccessReview (authorization.k8s.io/v1) against the API server of `kubeConfig`. */
export function kubeAccessReviewer(kubeConfig: KubeConfig): AccessReviewer {
  const api = kubeConfig.makeApiClient(AuthorizationV1Api);
  return {
    async allowed(user, attributes) {
      try {
        const review = await api.createSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: user.name,
              groups: user.groups,
              ...(user.uid ? { uid: user.uid } : {}),
              ...(user.extra ? { extra: user.extra } : {}),
              resourceAttributes: { ...attributes, group: '', version: 'v1' },
            },
          },
        });
        return review.status?.allowed === true;
      } catch (err) {
        const detail = err instanceof ApiException ? `HTTP ${err.code}: ${String(err.body)}` : messageOf(err);
        throw new VicError('ApiServerUnavailable', `SubjectAccessReview failed: ${detail}`, { cause: err });
      }
    },
  };
}

/** Caches decisions as the kubelet's webhook authorizer does: allowed about 5 minutes, denied 30 s. */
export function cachedAccessReviewer(
  inner: AccessReviewer,
  options: { clock: Clock; allowTtlMs?: number; denyTtlMs?: number },
): AccessReviewer {
  const cache = new TtlCache<boolean>({ clock: options.clock });
  const allowTtl = options.allowTtlMs ?? 300_000;
  const denyTtl = options.denyTtlMs ?? 30_000;
  return {
    allowed(user, attributes) {
      const key = JSON.stringify([user.name, user.uid, user.groups, user.extra, attributes]);
      return cache.getOrLoad(
        key,
        () => inner.allowed(user, attributes),
        (allowed) => (allowed ? allowTtl : denyTtl),
      );
    },
  };
}

export class Authorizer {
  readonly #reviewer: AccessReviewer;
  readonly #nodeName: string;

  constructor(options: { reviewer: AccessReviewer; nodeName: string }) {
    this.#reviewer = options.reviewer;
    this.#nodeName = options.nodeName;
  }

  /** Allowed when any of the path's subresources is; never throws. */
  async decide(user: UserInfo, method: string | undefined, path: string): Promise<Decision> {
    const verb = verbFor(method);
    const subresources = subresourcesFor(path);
    for (const subresource of subresources) {
      const attributes: AccessAttributes = { verb, resource: 'nodes', subresource, name: this.#nodeName };
      if (verb === '') break;
      try {
        if (await this.#reviewer.allowed(user, attributes)) return { allowed: true, attributes };
      } catch (error) {
        return {
          allowed: false,
          status: 500,
          message: `Authorization error (user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource})`,
          error,
        };
      }
    }
    return {
      allowed: false,
      status: 403,
      message: `Forbidden (user=${user.name}, verb=${verb}, resource=nodes, subresource(s)=[${subresources.join(' ')}])`,
    };
  }
}
