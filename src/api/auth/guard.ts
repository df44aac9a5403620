// The one gate every request passes, plain or upgrade: authenticate, then authorize against the path,
// answering 401, 403 or 500 the way the kubelet's auth filter does.
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../shared/logger.js';
import type { Authenticator, UserInfo } from './authenticate.js';
import type { Authorizer } from './authorize.js';

export type AccessResult = { ok: true; user: UserInfo } | { ok: false; status: number; message: string };

export class AccessGuard {
  readonly #authenticator: Authenticator;
  readonly #authorizer: Authorizer;
  readonly #log: Logger;

  constructor(options: { authenticator: Authenticator; authorizer: Authorizer; logger: Logger }) {
    this.#authenticator = options.authenticator;
    this.#authorizer = options.authorizer;
    this.#log = options.logger;
  }

  async check(req: IncomingMessage, pathname: string): Promise<AccessResult> {
    const authn = await this.#authenticator.authenticate(req);
    if (!authn.user) {
      if (authn.error)
        this.#log.warn({ err: authn.error, path: pathname }, 'unable to authenticate the request');
      else this.#log.debug({ path: pathname, reason: authn.reason }, 'unauthenticated request');
      return { ok: false, status: 401, message: 'Unauthorized' };
    }
    const decision = await this.#authorizer.decide(authn.user, req.method, pathname);
    if (decision.allowed) return { ok: true, user: authn.user };
    if (decision.status === 500) {
      this.#log.error({ err: decision.error, user: authn.user.name, path: pathname }, 'authorization error');
    } else {
      this.#log.debug({ user: authn.user.name, path: pathname }, decision.message);
    }
    return { ok: false, status: decision.status, message: decision.message };
  }
}
