// Registry credentials from a pod's imagePullSecrets (kubernetes.io/dockerconfigjson and the older
// kubernetes.io/dockercfg), as plain data for src/vch.
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { RegistryCredential } from '../../vch/types.js';
import { decodeSecretValue, type ConfigSources } from './config-sources.js';

interface DockerAuth {
  username?: string;
  password?: string;
  auth?: string;
}

export function credentialsFromSecret(secret: V1Secret): RegistryCredential[] {
  const json = decodeSecretValue(secret, '.dockerconfigjson') ?? decodeSecretValue(secret, '.dockercfg');
  if (!json) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const root = parsed as { auths?: Record<string, DockerAuth> } & Record<string, DockerAuth>;
  const auths = root.auths ?? root;
  const credentials: RegistryCredential[] = [];
  for (const [registry, entry] of Object.entries(auths)) {
    if (typeof entry !== 'object' || entry === null) continue;
    let { username, password } = entry;
    if ((!username || !password) && entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        username = decoded.slice(0, colon);
        password = decoded.slice(colon + 1);
      }
    }
    if (username && password) credentials.push({ registry, username, password });
  }
  return credentials;
}

/** Missing secrets are skipped, as the kubelet does: the pull then fails with the registry's answer. */
export async function pullCredentials(pod: V1Pod, sources: ConfigSources): Promise<RegistryCredential[]> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const all: RegistryCredential[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const secret = await sources.secret(namespace, ref.name);
    if (secret) all.push(...credentialsFromSecret(secret));
  }
  return all;
}
