// GET /containerLogs/{namespace}/{pod}/{container}: a container's log, streamed chunk by chunk while the
// provider produces it, until the log ends, the client goes away or the server shuts down.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import type { Logger } from '../../shared/logger.js';
import { parseLogOptions, type Query } from './log-options.js';
import { pathParam, requestSignal, type RouteContext } from './context.js';

export function containerLogsHandler(ctx: RouteContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const namespace = pathParam(req.params, 'namespace');
    const pod = pathParam(req.params, 'pod');
    const container = pathParam(req.params, 'container');
    const options = parseLogOptions(req.query as Query);
    const controller = requestSignal(res, ctx.shutdown);
    const stream = await ctx.provider.containerLogs(
      { namespace, name: pod },
      container,
      options,
      controller.signal,
    );
    if (controller.signal.aborted) {
      stream.destroy();
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    // Headers go out now, so a follow client sees the stream open before the first line is written.
    res.flushHeaders();
    await relay(stream, res, controller.signal, ctx.logger);
  };
}

/**
 * Copies `source` to the response with backpressure. Each chunk goes out as its own HTTP chunk at once
 * (no buffering, Nagle is off on the server's sockets). When `signal` aborts (client gone, shutdown), the
 * source is destroyed and the response ends cleanly; when the source fails midway the connection is cut
 * so the client can tell the log is incomplete.
 */
export function relay(
  source: Readable,
  res: ServerResponse,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      res.off('drain', onDrain);
      source.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer | string) => {
      if (!res.write(chunk)) source.pause();
    };
    const onDrain = () => source.resume();
    const onAbort = () => {
      source.destroy();
      if (!res.writableEnded && !res.destroyed) res.end();
      settle();
    };
    source.on('data', onData);
    res.on('drain', onDrain);
    source.once('end', () => {
      if (!res.destroyed) res.end();
      settle();
    });
    source.once('error', (err) => {
      if (!signal.aborted) log.warn({ err }, 'log stream failed');
      res.destroy();
      settle();
    });
    source.once('close', () => {
      // A source destroyed without 'end' or 'error' (the provider gave up on it) ends the response too.
      if (!res.writableEnded && !res.destroyed) res.end();
      settle();
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
