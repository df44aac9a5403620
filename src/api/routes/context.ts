// What every route handler is given: the provider it serves from, a logger, and the server's shutdown
// signal that ends long-running responses.
import type { KubeletProvider } from '../../provider/kubelet-api.js';
import type { Logger } from '../../shared/logger.js';

export interface RouteContext {
  provider: KubeletProvider;
  nodeName: string;
  logger: Logger;
  /** Aborts when the server closes: follow streams and running commands end then. */
  shutdown: AbortSignal;
}

/**
 * An AbortController that aborts when the client goes away, and also at shutdown when `shutdown` is given
 * (for long-running responses; a short request is left to finish while the server drains).
 */
export function requestSignal(
  res: { once(event: 'close', listener: () => void): unknown },
  shutdown?: AbortSignal,
): AbortController {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (shutdown?.aborted) abort();
  shutdown?.addEventListener('abort', abort, { once: true });
  res.once('close', () => {
    shutdown?.removeEventListener('abort', abort);
    abort();
  });
  return controller;
}

/** A named path parameter as one string (express types allow arrays for wildcard parameters). */
export function pathParam(params: Record<string, string | string[] | undefined>, name: string): string {
  const value = params[name];
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}
