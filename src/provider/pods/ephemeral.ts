// Ephemeral containers (`kubectl debug`): not started by this node yet. Rather than leave the debug
// session waiting on a container that never comes, each one is reported as a kubelet reports a
// container it could not create: waiting, with CreateContainerError and a message saying why, and a
// Warning event (the caller records it).
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

export const ephemeralUnsupportedMessage =
  'ephemeral containers are not supported by this node (vic-kubelet) yet: use kubectl exec, or a pod of its own to debug from';

export function ephemeralContainerStatuses(pod: V1Pod): V1ContainerStatus[] | undefined {
  const list = pod.spec?.ephemeralContainers ?? [];
  if (!list.length) return undefined;
  return list.map((c) => ({
    name: c.name,
    image: c.image ?? '',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { waiting: { reason: 'CreateContainerError', message: ephemeralUnsupportedMessage } },
  }));
}
