// GET /pods and GET /runningpods/: the node's pods as a v1 PodList, times written the way the API
// server writes them (RFC3339, seconds), since client-node's pods carry Date objects.
import type { V1Pod } from '@kubernetes/client-node';
import type { Request, Response } from 'express';
import type { RouteContext } from './context.js';

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The PodList JSON text for `pods`. */
export function podListJson(pods: V1Pod[]): string {
  const list = { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods };
  return JSON.stringify(list, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `value` has been through Date.toJSON already; the holder still has the Date.
    const raw = this[key];
    return raw instanceof Date ? rfc3339(raw) : value;
  });
}

export function podsHandler(ctx: RouteContext, which: 'all' | 'running') {
  return async (_req: Request, res: Response): Promise<void> => {
    const pods = which === 'all' ? await ctx.provider.listPods() : await ctx.provider.listRunningPods();
    res.status(200).type('application/json').send(podListJson(pods));
  };
}
