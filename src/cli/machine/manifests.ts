// `vic-machine manifests`: the in-cluster deployment of one virtual node, rendered from deploy/
// (rbac.yaml, storageclass.yaml, vch-tls-secret.yaml, deployment.yaml) for the flags given: the namespace, the node
// name, the VCH endpoint, its TLS files (put into the Secret), labels, taint and capacity.
import { readFileSync } from 'node:fs';
import { dumpYaml } from '@kubernetes/client-node';
import { deployObjects, type KubeObject } from './package-files.js';
import { storageClasses } from './storage-classes.js';

export interface ManifestOptions {
  name: string;
  namespace: string;
  target: string;
  image: string;
  tls: { ca?: string; clientCert?: string; clientKey?: string; noVerify: boolean };
  /** Extra vic-kubelet flags (labels, taint, capacity, ...), already in --flag=value form. */
  kubeletArgs: string[];
  /** The node's volume stores: one StorageClass each (issue 16). */
  volumeStores?: readonly string[];
}

const tlsMount = '/etc/vic-kubelet/vch-tls';

function withNamespace(o: KubeObject, namespace: string): KubeObject {
  if (o.kind === 'Namespace') return { ...o, metadata: { ...o.metadata, name: namespace } };
  const copy = structuredClone(o);
  if (copy.metadata.namespace !== undefined) copy.metadata.namespace = namespace;
  for (const s of (copy.subjects as { kind: string; namespace?: string }[] | undefined) ?? [])
    if (s.kind === 'ServiceAccount') s.namespace = namespace;
  return copy;
}

export function renderManifests(options: ManifestOptions): KubeObject[] {
  const ns = options.namespace;
  const rbac = deployObjects('rbac.yaml').map((o) => withNamespace(o, ns));
  const secretName = `vic-kubelet-${options.name}-vch-tls`;
  const files: Record<string, string | undefined> = {
    'ca.pem': options.tls.ca,
    'cert.pem': options.tls.clientCert,
    'key.pem': options.tls.clientKey,
  };
  const data = Object.fromEntries(
    Object.entries(files)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([key, file]) => [key, readFileSync(file).toString('base64')]),
  );
  const [secretTemplate] = deployObjects('vch-tls-secret.yaml');
  const [deploymentTemplate] = deployObjects('deployment.yaml');
  if (!secretTemplate || !deploymentTemplate) throw new Error('deploy/ lacks its Secret or Deployment');
  const secret = {
    ...secretTemplate,
    metadata: { ...secretTemplate.metadata, name: secretName, namespace: ns },
    data,
  };

  const deployment = structuredClone(deploymentTemplate) as KubeObject & {
    spec: {
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          containers: { image: string; args: string[]; env: { name: string; value?: string }[] }[];
          volumes?: { name: string; secret?: { secretName: string } }[];
        };
      };
    };
  };
  const labels = { app: 'vic-kubelet', 'vic-machine.vmware.com/name': options.name };
  deployment.metadata = {
    ...deployment.metadata,
    name: `vic-kubelet-${options.name}`,
    namespace: ns,
    labels,
  };
  deployment.spec.selector.matchLabels = labels;
  deployment.spec.template.metadata.labels = labels;
  const container = deployment.spec.template.spec.containers[0];
  if (!container) throw new Error('deploy/deployment.yaml has no container');
  container.image = options.image;
  container.env = container.env.map((e) =>
    e.name === 'NODE_NAME'
      ? { name: e.name, value: options.name }
      : e.name === 'VCH_ENDPOINT'
        ? { name: e.name, value: options.target }
        : e,
  );
  const tlsArgs = [
    ...(data['ca.pem'] ? [`--vch-tls-ca=${tlsMount}/ca.pem`] : []),
    ...(data['cert.pem'] ? [`--vch-tls-cert=${tlsMount}/cert.pem`] : []),
    ...(data['key.pem'] ? [`--vch-tls-key=${tlsMount}/key.pem`] : []),
    ...(options.tls.noVerify ? ['--vch-insecure-skip-tls-verify'] : []),
  ];
  container.args = [...container.args, ...tlsArgs, ...options.kubeletArgs];
  for (const v of deployment.spec.template.spec.volumes ?? []) if (v.secret) v.secret.secretName = secretName;

  return [...rbac, ...storageClasses(options.volumeStores ?? ['default']), secret, deployment];
}

export function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => dumpYaml(o)).join('---\n');
}
