// Shared set-up of the kubelet API integration tests: a kubelet server on loopback with a fake provider,
// reviewing tokens and access with the real API server, and the PKI of the test environment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  createKubeletServer,
  type KubeletServer,
  type KubeletServerOptions,
} from '../../../src/api/server.js';
import type { StreamingRoute } from '../../../src/api/streaming-route.js';
import { FakeKubeletProvider, fakePod } from '../../../src/api/testing/fake-provider.js';
import type { Target } from '../../../src/api/testing/http-client.js';
import { cannedUsage } from '../../../src/api/testing/usage.js';
import { createLogger } from '../../../src/shared/logger.js';
import { kubeConfig, testEnv } from '../../support/env.js';

export interface StartedServer {
  server: KubeletServer;
  provider: FakeKubeletProvider;
  upgrades: Array<{ route: StreamingRoute; req: IncomingMessage; socket: Duplex }>;
  port: number;
}

/** The API server's own kubelet client certificate (O=system:masters), as it presents it to kubelets. */
export function kubeletClientTls(): Target['tls'] {
  const pki = testEnv.pkiDir;
  return {
    cert: readFileSync(join(pki, 'apiserver-kubelet-client.crt')),
    key: readFileSync(join(pki, 'apiserver-kubelet-client.key')),
    rejectUnauthorized: false,
  };
}

export function clusterCa(): string {
  return readFileSync(join(testEnv.pkiDir, 'ca.crt'), 'utf8');
}

export async function startServer(
  nodeName: string,
  over: Partial<KubeletServerOptions> = {},
): Promise<StartedServer> {
  const provider = new FakeKubeletProvider();
  provider.pods = [fakePod('default', 'web', ['main'])];
  provider.logs.set('default/web/main', 'hello from web\n');
  provider.usageResult = { ...cannedUsage(), nodeName };
  const upgrades: StartedServer['upgrades'] = [];
  const server = createKubeletServer({
    provider,
    nodeName,
    port: 0,
    address: '127.0.0.1',
    tls: { source: 'self-signed', ipAddresses: ['127.0.0.1'] },
    auth: { clientCaFile: join(testEnv.pkiDir, 'ca.crt'), kubeConfig: kubeConfig() },
    // Stands in for the SPDY/WebSocket transports: records the route and accepts the upgrade.
    streaming: (req, socket, _head, route) => {
      upgrades.push({ route, req, socket });
      socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
    },
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'kubelet-api-it' }),
    shutdownGraceMs: 2000,
    ...over,
  });
  const { port } = await server.listen();
  return { server, provider, upgrades, port };
}
