// The one error class of vic-kubelet: a stable code a caller can act on, a message a user can act on,
// and the cause it came from. Code-to-behaviour tables live where the behaviour is decided
// (HTTP status in src/api, retry-or-done in the controllers), not here.

export type ErrorCode =
  | 'NotFound'
  | 'Conflict'
  | 'Invalid'
  | 'Unauthorized'
  | 'Forbidden'
  | 'ImageNotFound'
  | 'ImageUnauthorized'
  | 'RegistryUnavailable'
  | 'InvalidImageName'
  | 'VchUnavailable'
  | 'ApiServerUnavailable'
  | 'TooManyRequests'
  | 'Timeout'
  | 'Canceled'
  | 'ProtocolError'
  | 'Internal';

export class VicError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'VicError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Follows the cause chain and returns the first VicError found, if any. */
export function findVicError(err: unknown): VicError | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current instanceof Error && !seen.has(current)) {
    if (current instanceof VicError) return current;
    seen.add(current);
    current = current.cause;
  }
  return undefined;
}

/** True when err, or anything in its cause chain, is a VicError with one of the codes. */
export function hasCode(err: unknown, ...codes: ErrorCode[]): boolean {
  const found = findVicError(err);
  return found !== undefined && codes.includes(found.code);
}

export const isNotFound = (err: unknown): boolean => hasCode(err, 'NotFound');
export const isConflict = (err: unknown): boolean => hasCode(err, 'Conflict');

/** A readable message for logs and statuses, whatever was thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
