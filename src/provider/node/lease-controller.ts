// The node's heartbeat: the Lease kube-node-lease/<node>, renewed every 10 s. Without it the node
// lifecycle controller marks the node NotReady and taints it unreachable after about 40-50 s.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { callApi } from '../kube/api-errors.js';

export const leaseNamespace = 'kube-node-lease';
export const leaseDurationSeconds = 40;

export interface LeaseOwner {
  nodeName: string;
  nodeUid: string;
}

export class LeaseController {
  readonly #api: CoordinationV1Api;
  readonly #log: Logger;
  #lease: V1Lease | undefined;

  constructor(options: { api: CoordinationV1Api; logger: Logger }) {
    this.#api = options.api;
    this.#log = options.logger;
  }

  /** Creates or renews the Lease once; throws a VicError when the API server does not take it. */
  async renew(owner: LeaseOwner, now: Date = new Date()): Promise<void> {
    const name = owner.nodeName;
    const current = this.#lease ?? (await this.#read(name));
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds,
      // MicroTime: the API server takes exactly six fractional digits, which V1MicroTime writes.
      renewTime: new V1MicroTime(now.getTime()),
    };
    if (!current) {
      this.#lease = await callApi('create the node lease', () =>
        this.#api.createNamespacedLease({
          namespace: leaseNamespace,
          body: {
            metadata: {
              name,
              namespace: leaseNamespace,
              ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: owner.nodeUid }],
            },
            spec,
          },
        }),
      );
      this.#log.info({ node: name }, 'node lease created');
      return;
    }
    try {
      this.#lease = await callApi('renew the node lease', () =>
        this.#api.replaceNamespacedLease({
          name,
          namespace: leaseNamespace,
          body: { ...current, spec: { ...current.spec, ...spec } },
        }),
      );
    } catch (err) {
      // Someone else wrote it (or it was deleted): forget our copy so the next renewal starts fresh.
      if (isConflict(err) || isNotFound(err)) this.#lease = undefined;
      throw err;
    }
  }

  async #read(name: string): Promise<V1Lease | undefined> {
    try {
      return await callApi('read the node lease', () =>
        this.#api.readNamespacedLease({ name, namespace: leaseNamespace }),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
