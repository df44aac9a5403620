// Registry credentials from a pod's imagePullSecrets (kubernetes.io/dockerconfigjson and the older
// kubernetes.io/dockercfg), as plain data for src/vch. A secret that is missing or cannot be read as a
// docker config is not silently ignored: it becomes a problem the image pull reports as an event
// (FailedToRetrieveImagePullSecret, as the kubelet's getPullSecretsForPod does), naming what to fix.
// Problems name the secret and the field, never a value from it.
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { RegistryCredential } from '../../vch/types.js';
import { decodeSecretValue, type ConfigSources } from './config-sources.js';

interface DockerAuth {
  username?: string;
  password?: string;
  auth?: string;
}

/** A pod's registry credentials, with what was wrong with its pull secrets. */
export type PullCredentials = RegistryCredential[] & {
  /** One sentence per unusable secret, saying what to fix; empty when all were read. */
  readonly problems?: readonly string[];
};

/** Credentials of one secret, or why it has none. */
export function readPullSecret(secret: V1Secret): { credentials: RegistryCredential[]; problem?: string } {
  const name = secret.metadata?.name ?? '';
  const field =
    decodeSecretValue(secret, '.dockerconfigjson') !== undefined ? '.dockerconfigjson' : '.dockercfg';
  const json = decodeSecretValue(secret, field);
  const fix = `fix image pull secret "${name}"`;
  if (!json) {
    return { credentials: [], problem: `${fix}: it has neither a .dockerconfigjson nor a .dockercfg key` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { credentials: [], problem: `${fix}: its ${field} is not valid JSON` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { credentials: [], problem: `${fix}: its ${field} is not a JSON object` };
  }
  const root = parsed as { auths?: Record<string, DockerAuth> } & Record<string, DockerAuth>;
  const auths = root.auths ?? root;
  const credentials: RegistryCredential[] = [];
  const unusable: string[] = [];
  for (const [registry, entry] of Object.entries(auths)) {
    if (typeof entry !== 'object' || entry === null) {
      unusable.push(registry);
      continue;
    }
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
    else unusable.push(registry);
  }
  if (unusable.length > 0) {
    return {
      credentials,
      problem: `${fix}: its ${field} entry for ${unusable.join(', ')} has no username and password (nor an "auth" of base64 user:password)`,
    };
  }
  return { credentials };
}

export function credentialsFromSecret(secret: V1Secret): RegistryCredential[] {
  return readPullSecret(secret).credentials;
}

/**
 * Missing secrets are skipped, as the kubelet does: the pull then fails with the registry's answer.
 * Each missing or unusable secret is listed in `problems` for the pull to report.
 */
export async function pullCredentials(pod: V1Pod, sources: ConfigSources): Promise<PullCredentials> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const all: RegistryCredential[] = [];
  const problems: string[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const secret = await sources.secret(namespace, ref.name);
    if (!secret) {
      problems.push(`image pull secret "${ref.name}" not found in namespace "${namespace}"; create it`);
      continue;
    }
    const read = readPullSecret(secret);
    all.push(...read.credentials);
    if (read.problem) problems.push(read.problem);
  }
  return Object.assign(all, { problems });
}
