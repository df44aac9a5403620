// The lifecycle fields this node cannot honour yet, named so admission refuses the pod with
// UnsupportedPodSpec instead of ignoring them (nothing silent).
import type { V1Container, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';

type WithNewFields = V1Container & {
  /** Kubernetes 1.34+ (ContainerRestartRules): per-exit-code restart rules. */
  restartPolicyRules?: unknown[];
};

function handlerFields(where: string, handler: V1LifecycleHandler | undefined): string[] {
  // tcpSocket is accepted by the API for compatibility but no kubelet runs it as a hook.
  return handler?.tcpSocket ? [`${where}.tcpSocket`] : [];
}

export function unsupportedLifecycleFields(pod: V1Pod): string[] {
  const spec = pod.spec;
  if (!spec) return [];
  const found: string[] = [];
  const groups: Array<[string, V1Container[] | undefined]> = [
    ['initContainers', spec.initContainers],
    ['containers', spec.containers],
  ];
  for (const [field, containers] of groups) {
    for (const c of (containers ?? []) as WithNewFields[]) {
      const at = `spec.${field}[${c.name}]`;
      // Only an init container may say restartPolicy (Always: a sidecar); the per-container restart
      // policy of app containers (1.34+) is not implemented.
      if (field === 'containers' && c.restartPolicy) found.push(`${at}.restartPolicy`);
      if (c.restartPolicyRules?.length) found.push(`${at}.restartPolicyRules`);
      found.push(...handlerFields(`${at}.lifecycle.postStart`, c.lifecycle?.postStart));
      found.push(...handlerFields(`${at}.lifecycle.preStop`, c.lifecycle?.preStop));
    }
  }
  return found;
}
