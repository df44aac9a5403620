// A plain-HTTP /healthz, as the kubelet's --healthz-port (10248) serves: "ok" while the process runs,
// in either role, so a standby replica is Ready for its Deployment without opening the kubelet API.
// Off unless --healthz-port is given (several vic-kubelets often share one machine).
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { Logger } from '../shared/logger.js';

export interface Healthz {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthz(options: {
  address: string;
  port: number;
  logger: Logger;
}): Promise<Healthz> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  });
  // Probes only: a short idle time, so idle sockets cannot pile up.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.listen(options.port, options.address);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.info({ address: options.address, port }, 'healthz listening');
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
