// Who is calling the kubelet API: a client certificate verified against the client CA (user = CN,
// groups = O), else a bearer token checked by the API server through a TokenReview. No anonymous access.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { ApiException, AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../../shared/clock.js';
import { VicError, messageOf } from '../../shared/errors.js';
import { TtlCache } from './ttl-cache.js';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** Asks whether a bearer token is valid: the user, undefined when it is not, a throw when it cannot tell. */
export interface TokenReviewer {
  review(token: string): Promise<UserInfo | undefined>;
}

export type Authentication =
  { user: UserInfo; method: 'x509' | 'token' } | { user: undefined; reason: string; error?: unknown };

const wsTokenPrefix = 'base64url.bearer.authorization.k8s.io.';

/** TokenReview (authentication.k8s.io/v1) against the API server of `kubeConfig`. */
export function kubeTokenReviewer(kubeConfig: KubeConfig): TokenReviewer {
  const api = kubeConfig.makeApiClient(AuthenticationV1Api);
  return {
    async review(token) {
      let status;
      try {
        const review = await api.createTokenReview({
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        });
        status = review.status;
      } catch (err) {
        // The message names the HTTP status only: a TokenReview body must never reach a log.
        const detail = err instanceof ApiException ? `HTTP ${err.code}` : messageOf(err);
        throw new VicError('ApiServerUnavailable', `TokenReview failed: ${detail}`);
      }
      const user = status?.user;
      if (!status?.authenticated || !user?.username) return undefined;
      return {
        name: user.username,
        ...(user.uid ? { uid: user.uid } : {}),
        groups: user.groups ?? [],
        ...(user.extra ? { extra: user.extra } : {}),
      };
    },
  };
}

/**
 * Caches reviews by a hash of the token (the token itself is never kept as a key): accepted tokens for
 * about 2 minutes as the kubelet does, rejected ones briefly so a fixed RBAC or new token works soon.
 */
export function cachedTokenReviewer(
  inner: TokenReviewer,
  options: { clock: Clock; successTtlMs?: number; failureTtlMs?: number },
): TokenReviewer {
  const cache = new TtlCache<UserInfo | null>({ clock: options.clock });
  const successTtl = options.successTtlMs ?? 120_000;
  const failureTtl = options.failureTtlMs ?? 10_000;
  return {
    async review(token) {
      const key = createHash('sha256').update(token).digest('base64');
      const user = await cache.getOrLoad(
        key,
        async () => (await inner.review(token)) ?? null,
        (value) => (value ? successTtl : failureTtl),
      );
      return user ?? undefined;
    },
  };
}

/** The token of `Authorization: Bearer`, or of the WebSocket subprotocol browsers use instead. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const [scheme, token] = header.split(' ', 3);
    if (scheme?.toLowerCase() === 'bearer' && token) return token.trim() || undefined;
  }
  const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
  const protocols = req.headers['sec-websocket-protocol'];
  if (upgrade && protocols) {
    for (const protocol of protocols.split(',').map((p) => p.trim())) {
      if (protocol.startsWith(wsTokenPrefix)) {
        const token = Buffer.from(protocol.slice(wsTokenPrefix.length), 'base64url').toString('utf8');
        if (token) return token;
      }
    }
  }
  return undefined;
}

/** Removes the credentials from the request, so that nothing downstream can log or forward them. */
export function stripCredentials(req: IncomingMessage): void {
  delete req.headers.authorization;
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols?.includes(wsTokenPrefix)) {
    const kept = protocols
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0 && !p.startsWith(wsTokenPrefix));
    if (kept.length > 0) req.headers['sec-websocket-protocol'] = kept.join(', ');
    else delete req.headers['sec-websocket-protocol'];
  }
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The user of a client certificate that the TLS layer verified against the client CA. */
export function certificateUser(req: IncomingMessage): UserInfo | undefined {
  const socket = req.socket;
  // authorized is true only when the chain verified against the client CA (rejectUnauthorized is off so
  // that token clients without a certificate still reach us).
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const name = asList(subject?.CN)[0];
  if (!name) return undefined;
  return { name, groups: asList(subject?.O) };
}

export class Authenticator {
  readonly #tokens: TokenReviewer | undefined;
  readonly #x509: boolean;

  constructor(options: { tokens?: TokenReviewer; x509: boolean }) {
    this.#tokens = options.tokens;
    this.#x509 = options.x509;
  }

  /** Identifies the caller, then strips the credentials from the request. Never throws. */
  async authenticate(req: IncomingMessage): Promise<Authentication> {
    const token = bearerToken(req);
    stripCredentials(req);
    if (this.#x509) {
      const user = certificateUser(req);
      if (user) return { user, method: 'x509' };
    }
    if (token === undefined) return { user: undefined, reason: 'no credentials' };
    if (!this.#tokens) return { user: undefined, reason: 'bearer tokens are not accepted' };
    try {
      const user = await this.#tokens.review(token);
      return user ? { user, method: 'token' } : { user: undefined, reason: 'token rejected' };
    } catch (error) {
      return { user: undefined, reason: 'token review failed', error };
    }
  }
}
