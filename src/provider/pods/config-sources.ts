// Reads the ConfigMaps, Secrets and Services a pod refers to (env, envFrom, volumes,
// imagePullSecrets, service links), once per sync. A missing object is a VicError('Invalid') whose
// message is what the kubelet would show.
import type { CoreV1Api, V1ConfigMap, V1Secret, V1Service } from '@kubernetes/client-node';
import { VicError, isNotFound } from '../../shared/errors.js';
import { callApi } from '../kube/api-errors.js';
import type { ServiceSources } from './service-env.js';

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

/** Services per namespace, listed once per sync. */
export function apiServiceSources(
  core: CoreV1Api,
  kubernetesAddress: { host: string; port: number } | undefined,
): ServiceSources {
  const cache = new Map<string, Promise<V1Service[]>>();
  return {
    list(namespace) {
      let hit = cache.get(namespace);
      if (!hit) {
        hit = callApi(`list services in ${namespace}`, () => core.listNamespacedService({ namespace })).then(
          (l) => l.items,
        );
        cache.set(namespace, hit);
      }
      return hit;
    },
    ...(kubernetesAddress ? { kubernetesAddress } : {}),
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
