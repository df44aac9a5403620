// How a kubelet names a pod and its containers in events and messages.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** The event's fieldPath: `spec.containers{name}` or `spec.initContainers{name}`. */
export function fieldPathOf(pod: V1Pod, name: string): string {
  const init = pod.spec?.initContainers?.some((c) => c.name === name);
  return `spec.${init ? 'initContainers' : 'containers'}{${name}}`;
}

/** `name_namespace(uid)`, as in the kubelet's back-off messages. */
export function podLabel(pod: V1Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

export function containerOf(pod: V1Pod, name: string): V1Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
}
