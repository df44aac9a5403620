// Refusing an HTTP Upgrade: a plain HTTP/1.1 response written on the raw socket (Node hands us the
// socket before any response object exists), then that socket, and only that one, is closed.
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
): void {
  if (socket.destroyed) return;
  const body = Buffer.from(`${message}\n`, 'utf8');
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const item of typeof value === 'string' ? [value] : value) lines.push(`${name}: ${item}`);
  }
  lines.push(
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    'X-Content-Type-Options: nosniff',
    `Content-Length: ${body.length}`,
  );
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
  // Whatever the client still sends is of no interest; end() flushes the answer, then the socket goes.
  socket.once('finish', () => socket.destroy());
  socket.resume();
}
