// The one table from VicError codes to HTTP status, and the bodies the kubelet API answers errors with:
// plain text by default (the API server passes it on to kubectl as the message), a v1 Status for clients
// that ask for JSON.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { findVicError, type ErrorCode } from '../shared/errors.js';

const statusByCode: Partial<Record<ErrorCode, number>> = {
  NotFound: 404,
  Invalid: 400,
  Unauthorized: 401,
  Forbidden: 403,
  Conflict: 409,
  TooManyRequests: 429,
  VchUnavailable: 503,
  ApiServerUnavailable: 503,
  Timeout: 504,
};

const reasonByStatus: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export interface HttpFailure {
  status: number;
  message: string;
  /** The VicError code, or undefined for an error that is not one (a bug: logged as such). */
  code: ErrorCode | undefined;
}

/** The HTTP answer for whatever a handler threw; details of unexpected errors stay in the log. */
export function httpFailureOf(err: unknown): HttpFailure {
  const found = findVicError(err);
  if (found) return { status: statusByCode[found.code] ?? 500, message: found.message, code: found.code };
  // Errors from express itself (a malformed URL, a too-large body) carry their own 4xx status.
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && err instanceof Error) {
    return { status, message: err.message, code: undefined };
  }
  return { status: 500, message: 'Internal error: see the vic-kubelet log', code: undefined };
}

export function statusReason(status: number): string {
  return reasonByStatus[status] ?? (status >= 500 ? 'InternalError' : 'BadRequest');
}

/** A v1 Status object as the API server writes it. */
export function statusObject(status: number, message: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: statusReason(status),
    code: status,
  };
}

function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/plain');
}

/** Writes an error response, unless the headers are gone already (then the connection is cut). */
export function sendFailure(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const json = wantsJson(req);
  const body = json
    ? JSON.stringify(statusObject(status, message))
    : message.endsWith('\n')
      ? message
      : `${message}\n`;
  res.statusCode = status;
  res.setHeader('Content-Type', json ? 'application/json' : 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Answers an upgrade request on its raw socket, where no ServerResponse exists, and closes it. */
export function rejectUpgrade(socket: Duplex, status: number, message: string, headers: string[] = []): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = message.endsWith('\n') ? message : `${message}\n`;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...headers,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
