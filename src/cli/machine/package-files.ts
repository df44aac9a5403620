// Files shipped beside the code (deploy/*.yaml), found from this module whether it runs as
// TypeScript from a checkout or as compiled JavaScript under dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'deploy'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the vic-kubelet package root (package.json, deploy/)');
    dir = parent;
  }
  return dir;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The objects of one deploy/ file, as plain JSON objects. */
export function deployObjects(file: string): KubeObject[] {
  const text = readFileSync(join(packageRoot(), 'deploy', file), 'utf8');
  // Round-trip through JSON: loadAllYaml hands back client-node model classes.
  return (loadAllYaml(text) as unknown[])
    .filter((o) => o !== null && o !== undefined)
    .map((o) => JSON.parse(JSON.stringify(o)) as KubeObject);
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

/** The rules of the vic-kubelet ClusterRole in deploy/rbac.yaml: what vic-kubelet needs, no more. */
export function kubeletRules(): PolicyRule[] {
  const role = deployObjects('rbac.yaml').find((o) => o.kind === 'ClusterRole');
  if (!role) throw new Error('deploy/rbac.yaml has no ClusterRole');
  return (role.rules as PolicyRule[] | undefined) ?? [];
}
