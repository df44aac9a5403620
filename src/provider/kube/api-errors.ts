// Turns what @kubernetes/client-node throws into a VicError with a code the controllers act on.
import { ApiException } from '@kubernetes/client-node';
import { VicError, type ErrorCode } from '../../shared/errors.js';

const byStatus: Record<number, ErrorCode> = {
  400: 'Invalid',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Conflict',
  422: 'Invalid',
  429: 'TooManyRequests',
};

/** The Status message the API server put in the body, if any. */
function statusMessage(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return body.length > 0 ? body.slice(0, 500) : undefined;
  }
}

export function toVicError(err: unknown, action: string): VicError {
  if (err instanceof VicError) return err;
  if (err instanceof ApiException) {
    const code = byStatus[err.code] ?? (err.code >= 500 ? 'ApiServerUnavailable' : 'Internal');
    const message = statusMessage(err.body) ?? `HTTP ${err.code}`;
    return new VicError(code, `${action}: ${message}`, { cause: err, details: { status: err.code } });
  }
  // Anything else thrown by the HTTP client is a transport failure: refused, reset, timed out.
  const text = err instanceof Error ? err.message : String(err);
  return new VicError('ApiServerUnavailable', `${action}: ${text}`, { cause: err });
}

/** Runs a Kubernetes API call, converting its failure into a VicError that names the action. */
export async function callApi<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toVicError(err, action);
  }
}
