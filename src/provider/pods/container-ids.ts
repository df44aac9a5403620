// How a kubelet on Docker spelled container and image IDs in a PodStatus (dockershim's
// `docker://<id>` and `docker-pullable://repo@digest`). src/vch hands back plain Docker IDs; the
// Kubernetes spelling is written here, and read back here.
import type { ContainerStatus } from '../../vch/types.js';

const containerPrefix = 'docker://';

export function kubeContainerId(dockerId: string): string {
  return `${containerPrefix}${dockerId}`;
}

/** The Docker ID in a status's `containerID`; undefined for another runtime's ID. */
export function dockerIdOf(containerID: string | undefined): string | undefined {
  return containerID?.startsWith(containerPrefix) ? containerID.slice(containerPrefix.length) : undefined;
}

/** `docker-pullable://repo@sha256:...` for an image with a registry digest, else `docker://sha256:...`. */
export function kubeImageId(status: Pick<ContainerStatus, 'imageId' | 'repoDigest'>): string {
  return status.repoDigest ? `docker-pullable://${status.repoDigest}` : `${containerPrefix}${status.imageId}`;
}
