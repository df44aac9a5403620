// Reads the ConfigMaps and Secrets a pod refers to (env, envFrom, imagePullSecrets), once per sync.
// A missing object is a VicError('Invalid') whose message is what the kubelet would show.
import type { CoreV1Api, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { VicError, isNotFound } from '../../shared/errors.js';
import { callApi } from '../kube/api-errors.js';

export interface ConfigSources {
  configMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<V1Secret | undefined>;
}

/** Reads through the API, caching for the lifetime of the object (one pod sync). */
export function apiConfigSources(core: CoreV1Api): ConfigSources {
  const cache = new Map<string, Promise<unknown>>();
  const cached = <T>(key: string, read: () => Promise<T>): Promise<T | undefined> => {
    let hit = cache.get(key) as Promise<T | undefined> | undefined;
    if (!hit) {
      hit = read().catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    configMap: (namespace, name) =>
      cached(`cm/${namespace}/${name}`, () =>
        callApi(`read configmap ${namespace}/${name}`, () =>
          core.readNamespacedConfigMap({ name, namespace }),
        ),
      ),
    secret: (namespace, name) =>
      cached(`secret/${namespace}/${name}`, () =>
        callApi(`read secret ${namespace}/${name}`, () => core.readNamespacedSecret({ name, namespace })),
      ),
  };
}

export function missing(kind: 'configmap' | 'secret', name: string): VicError {
  return new VicError('Invalid', `${kind} "${name}" not found`, { details: { kind, name } });
}

export function decodeSecretValue(secret: V1Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
  return secret.stringData?.[key];
}
