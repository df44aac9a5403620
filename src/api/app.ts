// The kubelet API's HTTP routes (everything but the upgrades, which server.ts takes before express sees
// them): the auth gate in front of every route, one log line per request, errors mapped in one place.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { KubeletProvider } from '../provider/kubelet-api.js';
import type { Logger } from '../shared/logger.js';
import type { AccessGuard } from './auth/guard.js';
import { httpFailureOf, sendFailure } from './errors.js';
import type { KubeletMetrics } from './own-metrics.js';
import { containerLogsHandler } from './routes/container-logs.js';
import type { RouteContext } from './routes/context.js';
import { podsHandler } from './routes/pods.js';
import { probeMetricsHandler } from './routes/probe-metrics.js';
import { ResourceMetrics, resourceMetricsHandler } from './routes/resource-metrics.js';
import { runHandler } from './routes/run.js';
import { statsSummaryHandler } from './routes/stats-summary.js';
import { isStreamingPath, matchStreamingRoute } from './streaming-route.js';

export interface KubeletAppOptions {
  provider: KubeletProvider;
  nodeName: string;
  guard: AccessGuard;
  logger: Logger;
  /** Aborts when the server starts closing. */
  shutdown: AbortSignal;
  metrics?: KubeletMetrics;
}

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** The route pattern for logs and metrics: never the pod names of the path itself. */
function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'other';
}

function methodNotAllowed(allowed: string): Handler {
  return (req, res) => {
    res.setHeader('Allow', allowed);
    sendFailure(req, res, 405, 'Method Not Allowed');
  };
}

export function createKubeletApp(options: KubeletAppOptions): express.Express {
  const { logger: log, metrics, shutdown } = options;
  const ctx: RouteContext = { provider: options.provider, nodeName: options.nodeName, logger: log, shutdown };
  const resourceMetrics = new ResourceMetrics({ source: options.provider, logger: log });
  const app = express();
  app.set('x-powered-by', false);
  // The kubelet's routes are case-sensitive (/portForward).
  app.set('case sensitive routing', true);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    // While the server drains, every answer closes its connection so no keep-alive holds it open.
    if (shutdown.aborted) res.setHeader('Connection', 'close');
    // A request that was in flight when the drain began closes its connection once answered.
    res.once('finish', () => {
      if (shutdown.aborted) req.socket.end();
    });
    res.once('close', () => {
      const route = routeLabel(req);
      metrics?.countRequest(route, req.method, res.statusCode);
      const user = (res.locals as { user?: string }).user;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.debug({ method: req.method, path: req.path, route, status: res.statusCode, ms, user }, 'request');
    });
    next();
  });

  app.use(async (req, res, next) => {
    const access = await options.guard.check(req, req.path);
    if (!access.ok) {
      sendFailure(req, res, access.status, access.message);
      return;
    }
    (res.locals as { user?: string }).user = access.user.name;
    next();
  });

  const get = (path: string, handler: Handler) => {
    app.get(path, handler);
    app.all(path, methodNotAllowed('GET'));
  };
  get('/healthz', (_req, res) => void res.status(200).type('text/plain; charset=utf-8').send('ok'));
  get('/pods', podsHandler(ctx, 'all'));
  get('/runningpods/', podsHandler(ctx, 'running'));
  get('/containerLogs/:namespace/:pod/:container', containerLogsHandler(ctx));
  get('/stats/summary', statsSummaryHandler(ctx));
  get('/metrics/resource', resourceMetricsHandler(resourceMetrics));
  get('/metrics/probes', probeMetricsHandler(ctx));
  get('/metrics', async (_req, res) => {
    if (!metrics) {
      res.status(200).type('text/plain; version=0.0.4; charset=utf-8').send('');
      return;
    }
    const { contentType, text } = await metrics.exposition();
    res.status(200).setHeader('Content-Type', contentType);
    res.send(text);
  });
  for (const path of ['/run/:namespace/:pod/:container', '/run/:namespace/:pod/:uid/:container']) {
    app.post(path, runHandler(ctx));
    app.all(path, methodNotAllowed('POST'));
  }

  // exec, attach and portForward arrive as upgrades; a plain request to them cannot be served.
  app.use((req, res, next) => {
    if (!isStreamingPath(req.path)) return next();
    if (!matchStreamingRoute(req.path)) return next();
    sendFailure(req, res, 400, 'Upgrade request required');
  });

  app.use((req, res) => sendFailure(req, res, 404, `404 page not found: ${req.path}`));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const failure = httpFailureOf(err);
    metrics?.countError(failure.code ?? 'Unknown');
    if (failure.status >= 500) {
      log.error({ err, method: req.method, path: req.path, status: failure.status }, 'request failed');
    } else {
      log.debug(
        { method: req.method, path: req.path, status: failure.status, reason: failure.message },
        'bad request',
      );
    }
    sendFailure(req, res, failure.status, failure.message);
  });
  return app;
}
