// How a kubelet names a pod and its containers in events and messages.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** The event's fieldPath: `spec.containers{name}`, `spec.initContainers{name}` or `spec.ephemeralContainers{name}`. */
export function fieldPathOf(pod: V1Pod, name: string): string {
  const init = pod.spec?.initContainers?.some((c) => c.name === name);
  const ephemeral = !init && isEphemeral(pod, name);
  return `spec.${init ? 'initContainers' : ephemeral ? 'ephemeralContainers' : 'containers'}{${name}}`;
}

/** `name_namespace(uid)`, as in the kubelet's back-off messages. */
export function podLabel(pod: V1Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

/** Whether `name` is one of the pod's ephemeral (debug) containers, not a container of its spec. */
export function isEphemeral(pod: V1Pod, name: string): boolean {
  const regular = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return (
    !regular.some((c) => c.name === name) &&
    (pod.spec?.ephemeralContainers ?? []).some((c) => c.name === name)
  );
}

/** A container of the pod by name: init, app or ephemeral (whose fields are a container's). */
export function containerOf(pod: V1Pod, name: string): V1Container | undefined {
  return [
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ].find((c) => c.name === name);
}
