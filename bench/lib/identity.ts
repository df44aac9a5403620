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

/** The kinds of request counted apart, in matching order; `other` takes the rest. */
const requestKinds = [
  { kind: 'pod-status', apiGroups: [''], resources: ['pods/status'] },
  { kind: 'pods', apiGroups: [''], resources: ['pods'] },
  { kind: 'events', apiGroups: ['', 'events.k8s.io'], resources: ['events'] },
  { kind: 'lease', apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  { kind: 'node', apiGroups: [''], resources: ['nodes', 'nodes/status'] },
  { kind: 'other', apiGroups: ['*'], resources: ['*'] },
] as const;

export type RequestKind = (typeof requestKinds)[number]['kind'];
export type RequestCounts = Record<RequestKind, number> & { total: number };

export interface BenchIdentity {
  /** A kubeconfig that authenticates as the node's ServiceAccount. */
  kubeconfig: string;
  /** Requests dispatched so far for this identity, by kind. */
  requests(): Promise<RequestCounts>;
}

async function ensureRbac(kc: k8s.KubeConfig): Promise<void> {
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const present = await rbac.readClusterRole({ name: 'vic-kubelet' }).then(
    () => true,
    () => false,
  );
  if (!present) {
    const applied = await kubectl(['apply', '-f', join(testEnv.root, 'deploy/rbac.yaml')]);
    if (applied.exitCode !== 0) throw new Error(`kubectl apply deploy/rbac.yaml: ${applied.stderr}`);
  }
}

export async function createIdentity(nodeName: string): Promise<BenchIdentity> {
  const kc = kubeConfig();
  await ensureRbac(kc);
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
  for (const [i, k] of requestKinds.entries()) {
    const fsName = `${name}-${k.kind}`;
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
                  verbs: ['*'],
                  apiGroups: [...k.apiGroups],
                  resources: [...k.resources],
                  clusterScope: true,
                  namespaces: ['*'],
                },
              ],
              ...(k.kind === 'other' ? { nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] } : {}),
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
  const counts = { total: 0 } as RequestCounts;
  for (const k of requestKinds) counts[k.kind] = 0;
  const line = /^apiserver_flowcontrol_dispatched_requests_total\{([^}]*)\} (\S+)$/;
  for (const text of metricsText.split('\n')) {
    const m = line.exec(text);
    if (!m) continue;
    const schema = /flow_schema="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    if (!schema.startsWith(`${name}-`)) continue;
    const kind = schema.slice(name.length + 1) as RequestKind;
    if (!(kind in counts)) continue;
    counts[kind] += Number(m[2]);
    counts.total += Number(m[2]);
  }
  return counts;
}

export function difference(after: RequestCounts, before: RequestCounts): RequestCounts {
  const out = {} as RequestCounts;
  for (const key of Object.keys(after) as (keyof RequestCounts)[]) out[key] = after[key] - before[key];
  return out;
}
