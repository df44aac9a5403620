// GET /metrics/probes: the kubelet's prober metrics (prober_probe_total, prober_probe_duration_seconds).
import type { Request, Response } from 'express';
import type { RouteContext } from './context.js';

export function probeMetricsHandler(ctx: RouteContext) {
  return async (_req: Request, res: Response): Promise<void> => {
    const metrics = await ctx.provider.probeMetrics?.();
    res
      .status(200)
      .setHeader('Content-Type', metrics?.contentType ?? 'text/plain; version=0.0.4; charset=utf-8')
      .send(metrics?.text ?? '');
  };
}
