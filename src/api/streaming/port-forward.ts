// The neutral port-forward request both transports hand to the provider, and the run sequence they
// share: call the handler, report its failure on the error stream, then close the connection's pair.
import type { Duplex } from 'node:stream';
import { messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

export interface PortForwardRequest {
  /** The port inside the pod. */
  readonly port: number;
  /** Bytes from the client are readable; what is written goes back to the client. */
  readonly stream: Duplex;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  /** Sends a message on the error stream; client-go then reports it and drops the connection. */
  reportError(message: string): void;
}

/** Resolves when forwarding is over; a rejection is reported to the client on the error stream. */
export type PortForwardHandler = (request: PortForwardRequest) => Promise<void>;

/** Runs the handler for one port pair; the transport closes its streams once this settles. */
export async function runPortForward(
  handler: PortForwardHandler,
  request: PortForwardRequest,
  logger: Logger,
): Promise<{ readonly failed: boolean }> {
  try {
    await handler(request);
    return { failed: false };
  } catch (error) {
    // The kubelet's wording, without the pod name the transport does not know.
    const message = `error forwarding port ${request.port}: ${messageOf(error)}`;
    // Told to the client on its error stream, and said here for the operator.
    logger.warn({ err: messageOf(error), port: request.port }, 'port-forward failed');
    request.reportError(message);
    return { failed: true };
  }
}

export function isValidPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 0xffff;
}

/** A port as the kubelet parses it: a decimal integer from 1 to 65535. */
export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return isValidPort(port) ? port : undefined;
}
