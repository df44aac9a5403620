// The kubelet HTTPS server on port 10250: TLS with a renewable serving certificate and optional client
// CA, the express routes, the auth gate on upgrade requests before they reach the streaming transports,
// and a shutdown that drains requests and ends follow streams.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeletProvider } from '../provider/kubelet-api.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { VicError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { createKubeletApp } from './app.js';
import {
  Authenticator,
  cachedTokenReviewer,
  kubeTokenReviewer,
  type TokenReviewer,
} from './auth/authenticate.js';
import {
  Authorizer,
  cachedAccessReviewer,
  kubeAccessReviewer,
  type AccessReviewer,
} from './auth/authorize.js';
import { AccessGuard } from './auth/guard.js';
import { rejectUpgrade } from './errors.js';
import { pathOnly } from './streaming/handle-upgrade.js';
import type { KubeletMetrics } from './own-metrics.js';
import { isStreamingPath, matchStreamingRoute, type StreamingHandler } from './streaming-route.js';
import {
  minTlsVersion,
  servingCertificates,
  type ServingCertificate,
  type ServingTlsOptions,
} from './tls.js';

export interface KubeletAuthOptions {
  /** CA bundle that client certificates must chain to; without it, client certificates are not asked for. */
  clientCaFile?: string;
  /** Where TokenReviews and SubjectAccessReviews go (needs system:auth-delegator). */
  kubeConfig?: KubeConfig;
  /** Stand-ins for the API server's reviews (tests); default: built from kubeConfig, cached. */
  tokenReviewer?: TokenReviewer;
  accessReviewer?: AccessReviewer;
}

export interface KubeletServerOptions {
  provider: KubeletProvider;
  nodeName: string;
  /** 10250 in production; 0 picks a free port. */
  port: number;
  /** Listen address; default all interfaces. */
  address?: string;
  tls: ServingTlsOptions;
  auth: KubeletAuthOptions;
  streaming: StreamingHandler;
  logger?: Logger;
  metrics?: KubeletMetrics;
  clock?: Clock;
  /** How long close() lets requests and streams finish before cutting them. Default 10 s. */
  shutdownGraceMs?: number;
  /** Bounds on slow, idle and too many clients; defaults in connectionLimits. */
  limits?: Partial<ConnectionLimits>;
}

/**
 * What one client may hold of the port. The kubelet's Go server is lax here (no header timeout, read
 * timeout 4 h: pkg/kubelet/server/server.go ListenAndServeKubeletServer); Node's defaults let a
 * connection sit 120 s in a TLS handshake and 60-90 s in a request head. Its real clients (the API
 * server, metrics-server, Prometheus) send a request as soon as they connect, so a connection that
 * does not is cut early, and the count of connections is capped so memory stays bounded.
 */
export interface ConnectionLimits {
  /** The TLS handshake must finish within this. */
  handshakeTimeoutMs: number;
  /** A request head must arrive whole within this (slowloris). For a connection's first request Node
   * counts from the connection's start, so a connection that sends nothing at all is closed too (with
   * a 408); between requests of a kept-alive connection keepAliveTimeout (90 s, the kubelet's
   * IdleTimeout) applies. */
  headersTimeoutMs: number;
  /** A whole request (head and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Largest request head; the kubelet's MaxHeaderBytes is 1 MiB, Node's default 16 KiB. */
  maxHeaderBytes: number;
  /** Connections beyond this are closed at once. */
  maxConnections: number;
}

export const connectionLimits: ConnectionLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  maxHeaderBytes: 64 * 1024,
  maxConnections: 8192,
};

export interface KubeletServer {
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
  /** Resolves once a serving certificate is in place: at once from files or self-signed, after approval for a CSR. */
  servingCertificate(): Promise<ServingCertificate>;
}

function reviewers(
  auth: KubeletAuthOptions,
  clock: Clock,
): { tokens: TokenReviewer; access: AccessReviewer } {
  const need = (what: string) =>
    new VicError('Invalid', `the kubelet server needs auth.kubeConfig (or auth.${what}) for its reviews`);
  const tokens = auth.tokenReviewer ?? (auth.kubeConfig ? kubeTokenReviewer(auth.kubeConfig) : undefined);
  const access = auth.accessReviewer ?? (auth.kubeConfig ? kubeAccessReviewer(auth.kubeConfig) : undefined);
  if (!tokens) throw need('tokenReviewer');
  if (!access) throw need('accessReviewer');
  return {
    tokens: auth.tokenReviewer ? tokens : cachedTokenReviewer(tokens, { clock }),
    access: auth.accessReviewer ? access : cachedAccessReviewer(access, { clock }),
  };
}

export function createKubeletServer(options: KubeletServerOptions): KubeletServer {
  const log = (options.logger ?? silentLogger).child({ component: 'kubelet-api' });
  const clock = options.clock ?? systemClock;
  const shutdown = new AbortController();
  const upgraded = new Set<Duplex>();
  const { tokens, access } = reviewers(options.auth, clock);
  const guard = new AccessGuard({
    authenticator: new Authenticator({ tokens, x509: options.auth.clientCaFile !== undefined }),
    authorizer: new Authorizer({ reviewer: access, nodeName: options.nodeName }),
    logger: log,
  });
  const certificates = servingCertificates(options.tls, { nodeName: options.nodeName, logger: log, clock });
  let server: Server | undefined;
  let closed: Promise<void> | undefined;

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    // After an upgrade Node no longer listens for socket errors: without this, one reset kills the process.
    socket.on('error', (err) => log.debug({ err }, 'upgraded connection error'));
    if (shutdown.signal.aborted) return rejectUpgrade(socket, 503, 'the kubelet API is shutting down');
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'https://kubelet').pathname;
    } catch {
      return rejectUpgrade(socket, 400, 'malformed request URL');
    }
    const decision = await guard.check(req, pathname);
    if (!decision.ok) return rejectUpgrade(socket, decision.status, decision.message);
    const route = matchStreamingRoute(pathname);
    if (!route) {
      const known = isStreamingPath(pathname);
      return rejectUpgrade(
        socket,
        known ? 400 : 404,
        known ? `malformed path: ${pathname}` : '404 page not found',
      );
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      return rejectUpgrade(socket, 405, 'Method Not Allowed', ['Allow: GET, POST']);
    }
    log.debug({ method: req.method, path: pathname, user: decision.user.name, kind: route.kind }, 'upgrade');
    options.streaming(req, socket, head, route);
  }

  return {
    async listen() {
      if (server) throw new VicError('Conflict', 'the kubelet server is already listening');
      const ca = options.auth.clientCaFile ? await readFile(options.auth.clientCaFile, 'utf8') : undefined;
      const limits = { ...connectionLimits, ...options.limits };
      const https = createServer({
        minVersion: minTlsVersion,
        // Ask for a certificate but let token clients in without one: authorization happens per request.
        requestCert: ca !== undefined,
        rejectUnauthorized: false,
        ...(ca ? { ca } : {}),
        keepAliveTimeout: 90_000,
        handshakeTimeout: limits.handshakeTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        maxHeaderSize: limits.maxHeaderBytes,
        // How often Node looks for requests past their timeouts (default 30 s, which would let a
        // slow client hold on for headersTimeout + 30 s).
        connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      });
      https.maxConnections = limits.maxConnections;
      server = https;
      certificates.onUpdate((cert) =>
        https.setSecureContext({
          cert: cert.certPem,
          key: cert.keyPem,
          minVersion: minTlsVersion,
          ...(ca ? { ca } : {}),
        }),
      );
      certificates.start();
      // From files or self-signed there is a certificate in a moment (or a configuration error to report);
      // a CSR may wait for an administrator, and the port serves as soon as it is approved.
      if (options.tls.source !== 'csr') await certificates.ready();
      https.on('request', createKubeletApp({ ...options, logger: log, guard, shutdown: shutdown.signal }));
      https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        onUpgrade(req, socket, head).catch((err: unknown) => {
          log.error({ err, path: pathOnly(req.url) }, 'upgrade failed');
          rejectUpgrade(socket, 500, 'Internal error: see the vic-kubelet log');
        });
      });
      https.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'));
      await new Promise<void>((resolve, reject) => {
        https.once('error', reject);
        https.listen(options.port, options.address, () => {
          https.off('error', reject);
          resolve();
        });
      });
      https.on('error', (err) => log.error({ err }, 'kubelet server error'));
      const port = (https.address() as AddressInfo).port;
      log.info({ port, address: options.address ?? '0.0.0.0' }, 'kubelet API listening');
      return { port };
    },

    close() {
      closed ??= (async () => {
        shutdown.abort();
        certificates.stop();
        const https = server;
        if (!https || !https.listening) return;
        const done = new Promise<void>((resolve) => https.close(() => resolve()));
        https.closeIdleConnections();
        const grace = clock.setTimeout(() => {
          log.warn({ upgraded: upgraded.size }, 'cutting the connections still open after the grace period');
          https.closeAllConnections();
          for (const socket of upgraded) socket.destroy();
        }, options.shutdownGraceMs ?? 10_000);
        await done;
        grace.cancel();
      })();
      return closed;
    },

    servingCertificate: () => certificates.ready(),
  };
}
