// The names the provisioner speaks: its own (StorageClass `provisioner`, PV driver), the annotations
// of the external-provisioner protocol that the PV controller and the scheduler write, and the
// StorageClass parameter that names a VCH volume store.

/** The StorageClass `provisioner` vic-kubelet serves. */
export const provisionerName = 'vic-kubelet.io/vch-volume';

/**
 * The PV's volume source driver: a CSI driver name is a DNS subdomain (no slash). No CSI driver runs:
 * the node that mounts the volume is vic-kubelet itself, and the attach/detach controller leaves
 * nodes without `volumes.kubernetes.io/controller-managed-attach-detach` alone.
 */
export const volumeDriverName = 'vch-volume.vic-kubelet.io';

/**
 * kubernetes/kubernetes pkg/controller/volume/persistentvolume/util (storagehelpers):
 * AnnStorageProvisioner and AnnBetaStorageProvisioner are set by the PV controller on a claim it
 * leaves to an external provisioner; AnnSelectedNode by the scheduler's volumebinding plugin when a
 * WaitForFirstConsumer claim's pod picked a node; AnnDynamicallyProvisioned on the PV by its provisioner.
 */
export const Ann = {
  storageProvisioner: 'volume.kubernetes.io/storage-provisioner',
  betaStorageProvisioner: 'volume.beta.kubernetes.io/storage-provisioner',
  selectedNode: 'volume.kubernetes.io/selected-node',
  provisionedBy: 'pv.kubernetes.io/provisioned-by',
} as const;

/** On the PVs this node made: lets each vic-kubelet find its own among all PVs. */
export const pvNodeLabel = 'vic-kubelet.io/node';

/** The StorageClass parameter naming the VCH volume store (`--volume-store`); default `default`. */
export const storeParameter = 'volumeStore';
export const defaultStore = 'default';

/** The PV of a claim, as the external provisioner names it: one claim UID, one PV, one VCH volume. */
export function volumeNameOf(claimUid: string): string {
  return `pvc-${claimUid}`;
}
