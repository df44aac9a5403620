// Who a bench node is to the API server, and how many requests it makes there. Each bench vic-kubelet
// runs as its own ServiceAccount bound to deploy/rbac.yaml's ClusterRole (the rights a deployed node
// has, and the workload-low priority level its requests get as a ServiceAccount). The API server's
// request metrics carry no client label, so the bench adds FlowSchemas that match only that
// ServiceAccount, one per kind of request, and reads their
// apiserver_flowcontrol_dispatched_requests_total counters from /metrics: other clients of the shared
// API server (other tests, the controllers) do not count.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, kubectl, testEnv } from '../../test/support/env.js';
import { onCleanup } from './cleanup.js';

const identityNamespace = 'vic-system';

/**
 * The requests counted apart: every verb of interest on every resource a node touches, one FlowSchema
 * each, so that a figure says which requests it is made of ("patch pods/status", "create events"),
 * not only how many. Anything else (other verbs, other resources, non-resource URLs) is `other`.
 */
const countedResources = [
  'pods/status',
  'pods',
  'events',
  'leases',
  'nodes/status',
  'nodes',
  'serviceaccounts/token',
  'configmaps',
  'secrets',
  'services',
  'persistentvolumeclaims',
  'persistentvolumes',
] as const;
const countedVerbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;

interface RequestKind {
  /** "verb resource", or "other". */
  label: string;
  verbs: string[];
  resources: string[];
}

const requestKinds: RequestKind[] = [
  ...countedResources.flatMap((resource) =>
    countedVerbs.map((verb) => ({ label: `${verb} ${resource}`, verbs: [verb], resources: [resource] })),
  ),
  { label: 'other', verbs: ['*'], resources: ['*'] },
];

/** Requests by "verb resource" (only those made at least once) and their total. */
export interface RequestCounts {
  total: number;
  byKind: Record<string, number>;
}

export interface BenchIdentity {
  /** A kubeconfig that authenticates as the node's ServiceAccount. */
  kubeconfig: string;
  /** Requests dispatched so far for this identity, by kind. */
  requests(): Promise<RequestCounts>;
}

/** The ClusterRole of the tree being measured (applied each run: its rights decide which requests it makes). */
async function ensureRbac(): Promise<void> {
  const applied = await kubectl(['apply', '-f', join(testEnv.root, 'deploy/rbac.yaml')]);
  if (applied.exitCode !== 0) throw new Error(`kubectl apply deploy/rbac.yaml: ${applied.stderr}`);
}

export async function createIdentity(nodeName: string): Promise<BenchIdentity> {
  const kc = kubeConfig();
  await ensureRbac();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const flow = kc.makeApiClient(k8s.FlowcontrolApiserverV1Api);
  const name = nodeName;
  const subject = { kind: 'ServiceAccount', name, namespace: identityNamespace };

  await core.createNamespacedServiceAccount({ namespace: identityNamespace, body: { metadata: { name } } });
  onCleanup(`service account ${name}`, () =>
    core.deleteNamespacedServiceAccount({ name, namespace: identityNamespace }),
  );
  for (const [suffix, role] of [
    ['', 'vic-kubelet'],
    ['-auth', 'system:auth-delegator'],
  ] as const) {
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: `${name}${suffix}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [subject],
      },
    });
    onCleanup(`cluster role binding ${name}${suffix}`, () =>
      rbac.deleteClusterRoleBinding({ name: `${name}${suffix}` }),
    );
  }
  const flowSubject = { kind: 'ServiceAccount', serviceAccount: { name, namespace: identityNamespace } };
  // Named by index (a label is no valid object name); the label is found again by that index.
  for (const [i, k] of requestKinds.entries()) {
    const fsName = `${name}-r${i}`;
    await flow.createFlowSchema({
      body: {
        metadata: { name: fsName },
        spec: {
          matchingPrecedence: 30 + i,
          priorityLevelConfiguration: { name: 'workload-low' },
          distinguisherMethod: { type: 'ByUser' },
          rules: [
            {
              subjects: [flowSubject],
              resourceRules: [
                {
                  verbs: k.verbs,
                  apiGroups: ['*'],
                  resources: k.resources,
                  clusterScope: true,
                  namespaces: ['*'],
                },
              ],
              ...(k.label === 'other'
                ? { nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] }
                : {}),
            },
          ],
        },
      },
    });
    onCleanup(`flow schema ${fsName}`, () => flow.deleteFlowSchema({ name: fsName }));
  }

  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace: identityNamespace,
    body: { spec: { audiences: [], expirationSeconds: 4 * 3600 } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'vk-bench-'));
  onCleanup(`kubeconfig of ${name}`, async () => rmSync(dir, { recursive: true, force: true }));
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig names no cluster');
  const kubeconfig = join(dir, 'kubeconfig');
  const out = new k8s.KubeConfig();
  out.loadFromOptions({
    clusters: [{ ...cluster, name: 'cluster' }],
    users: [{ name, token: token.status?.token ?? '' }],
    contexts: [{ name: 'bench', cluster: 'cluster', user: name }],
    currentContext: 'bench',
  });
  writeFileSync(kubeconfig, out.exportConfig(), { mode: 0o600 });

  return {
    kubeconfig,
    async requests() {
      const metrics = await kubectl(['get', '--raw', '/metrics'], { timeoutMs: 60_000 });
      if (metrics.exitCode !== 0) throw new Error(`GET /metrics: ${metrics.stderr}`);
      return countsFrom(metrics.stdout, name);
    },
  };
}

/** This identity's dispatched requests per kind, from the API server's Prometheus text. */
export function countsFrom(metricsText: string, name: string): RequestCounts {
  const counts: RequestCounts = { total: 0, byKind: {} };
  const line = /^apiserver_flowcontrol_dispatched_requests_total\{([^}]*)\} (\S+)$/;
  const prefix = `${name}-r`;
  for (const text of metricsText.split('\n')) {
    const m = line.exec(text);
    if (!m) continue;
    const schema = /flow_schema="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    if (!schema.startsWith(prefix)) continue;
    const kind = requestKinds[Number(schema.slice(prefix.length))];
    if (!kind) continue;
    const n = Number(m[2]);
    counts.byKind[kind.label] = (counts.byKind[kind.label] ?? 0) + n;
    counts.total += n;
  }
  return counts;
}

export function difference(after: RequestCounts, before: RequestCounts): RequestCounts {
  const byKind: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after.byKind)) {
    const d = n - (before.byKind[kind] ?? 0);
    if (d > 0) byKind[kind] = d;
  }
  return { total: after.total - before.total, byKind };
}

/** The counts divided by `per` (pods, pods and minutes), largest first, for the JSON. */
export function perUnit(counts: RequestCounts, per: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts.byKind)
      .sort(([, a], [, b]) => b - a)
      .map(([kind, n]) => [kind, Math.round((n / per) * 1000) / 1000]),
  );
}

/** "patch pods/status 1.00, create events 3.00, ...": the breakdown per unit, largest first, for the table's note. */
export function breakdown(counts: RequestCounts, per = 1): string {
  return Object.entries(perUnit(counts, per))
    .map(([kind, n]) => `${kind} ${n.toFixed(per === 1 ? 0 : 2)}`)
    .join(', ');
}

/** The node's own periodic requests (its Lease and Node status: the heartbeat), which no pod causes. */
const nodeKinds = /^\S+ (leases|nodes|nodes\/status)$/;

function filtered(counts: RequestCounts, keep: (kind: string) => boolean): RequestCounts {
  const byKind = Object.fromEntries(Object.entries(counts.byKind).filter(([k]) => keep(k)));
  return { byKind, total: Object.values(byKind).reduce((a, b) => a + b, 0) };
}

/** The requests pods cause: all but the node's heartbeat. */
export const withoutHeartbeat = (counts: RequestCounts): RequestCounts =>
  filtered(counts, (k) => !nodeKinds.test(k));

/** The node's heartbeat alone. */
export const heartbeatOnly = (counts: RequestCounts): RequestCounts =>
  filtered(counts, (k) => nodeKinds.test(k));
