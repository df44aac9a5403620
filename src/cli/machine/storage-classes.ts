// The StorageClasses of a virtual node's volume stores, from deploy/storageclass.yaml: one class
// `vic-<store>` per `--volume-store`, as the original vic-machine named a store with a label
// (`--volume-store datastore/path:label`, the label being the store's name).
import { StorageV1Api, type KubeConfig, type V1StorageClass } from '@kubernetes/client-node';
import { findVicError, isConflict } from '../../shared/errors.js';
import { callApi } from '../../provider/kube/api-errors.js';
import { deployObjects, type KubeObject } from './package-files.js';

/** The store name of a `--volume-store` value: the label after the last colon, else the whole value. */
export function storeName(flag: string): string {
  const colon = flag.lastIndexOf(':');
  return colon >= 0 ? flag.slice(colon + 1) : flag;
}

export function storageClassName(store: string): string {
  return `vic-${store.toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`;
}

/** One StorageClass per store, the template's settings with the store's name and parameter. */
export function storageClasses(stores: readonly string[]): KubeObject[] {
  const [template] = deployObjects('storageclass.yaml');
  if (!template) throw new Error('deploy/storageclass.yaml has no StorageClass');
  return stores.map((store) => {
    const o = structuredClone(template);
    o.metadata = { ...o.metadata, name: storageClassName(store) };
    o.parameters = { ...(o.parameters as Record<string, string> | undefined), volumeStore: store };
    return o;
  });
}

export interface ClassesInstalled {
  created: string[];
  existing: string[];
  /** Classes the user may not create (vic-kubelet's own identity only reads them). */
  forbidden: string[];
}

/**
 * Creates the classes that do not exist yet; an existing class is left as its owner set it. A user
 * without the right to create StorageClasses gets the node anyway, and is told which to apply.
 */
export async function installStorageClasses(
  kc: KubeConfig,
  stores: readonly string[],
): Promise<ClassesInstalled> {
  const api = kc.makeApiClient(StorageV1Api);
  const result: ClassesInstalled = { created: [], existing: [], forbidden: [] };
  for (const body of storageClasses(stores)) {
    const name = body.metadata.name;
    try {
      await callApi(`create StorageClass ${name}`, () =>
        api.createStorageClass({ body: body as unknown as V1StorageClass }),
      );
      result.created.push(name);
    } catch (err) {
      if (isConflict(err)) result.existing.push(name);
      else if (findVicError(err)?.code === 'Forbidden') result.forbidden.push(name);
      else throw err;
    }
  }
  return result;
}
