// How an exec's result reaches the client on the error stream/channel: v1-v3 write the failure message
// as plain text and nothing on success; v4 and later write a metav1.Status as JSON, which client-go
// turns into an exit error carrying the code (details.causes[reason=ExitCode]).
import type { SessionOutcome } from './attach-session.js';

export type StatusFormat = 'text' | 'json';

interface Status {
  readonly metadata: Record<string, never>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes: readonly { readonly reason?: string; readonly message: string }[] };
  readonly code?: number;
}

/** The metav1.Status the kubelet reports for a result (field order as Go marshals it). */
export function exitStatus(result: SessionOutcome, command: readonly string[] = []): Status {
  if ('error' in result) {
    return {
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: ${result.error}`,
      reason: 'InternalError',
      details: { causes: [{ message: result.error }] },
      code: 500,
    };
  }
  if (result.exitCode === 0) return { metadata: {}, status: 'Success' };
  // The runtime's own wording (containerd: "error executing command [sh -c exit 3], exit code 3"),
  // wrapped the way the kubelet wraps it; Go prints a []string as [a b c].
  const what = command.length > 0 ? `error executing command [${command.join(' ')}], ` : '';
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${what}exit code ${result.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
  };
}

/** The bytes to write on the error stream, or undefined when the protocol writes nothing. */
export function encodeExitStatus(
  result: SessionOutcome,
  format: StatusFormat,
  command: readonly string[] = [],
): Buffer | undefined {
  const status = exitStatus(result, command);
  if (format === 'json') return Buffer.from(JSON.stringify(status), 'utf8');
  return status.status === 'Success' ? undefined : Buffer.from(status.message ?? '', 'utf8');
}
