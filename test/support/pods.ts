// Small helpers for end-to-end tests about pods: a pod template that lands on a given virtual node,
// and waits on what a user would watch with kubectl.
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, testEnv } from './env.js';

export function core(): k8s.CoreV1Api {
  return kubeConfig().makeApiClient(k8s.CoreV1Api);
}

/** A pod spec that selects and tolerates the virtual node. */
export function podOn(
  nodeName: string,
  spec: Partial<k8s.V1PodSpec> & Pick<k8s.V1PodSpec, 'containers'>,
): k8s.V1PodSpec {
  return {
    nodeSelector: { 'kubernetes.io/hostname': nodeName },
    tolerations: [{ key: 'virtual-kubelet.io/provider', operator: 'Exists' }],
    terminationGracePeriodSeconds: 5,
    ...spec,
  };
}

/** A busybox container running a shell script. */
export function shell(name: string, script: string, extra: Partial<k8s.V1Container> = {}): k8s.V1Container {
  return {
    name,
    image: testEnv.busyboxImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', script],
    ...extra,
  };
}

export async function createPod(namespace: string, name: string, spec: k8s.V1PodSpec): Promise<k8s.V1Pod> {
  return core().createNamespacedPod({ namespace, body: { metadata: { name }, spec } });
}

/** A kubernetes.io/dockerconfigjson Secret holding one registry's user name and password. */
export async function createPullSecret(
  namespace: string,
  name: string,
  registry: { host: string; user: string; password: string },
): Promise<k8s.V1Secret> {
  const auth = Buffer.from(`${registry.user}:${registry.password}`).toString('base64');
  return core().createNamespacedSecret({
    namespace,
    body: {
      metadata: { name },
      type: 'kubernetes.io/dockerconfigjson',
      stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [registry.host]: { auth } } }) },
    },
  });
}

export async function podWhere(
  namespace: string,
  name: string,
  what: string,
  predicate: (pod: k8s.V1Pod) => boolean,
  timeoutMs = 60_000,
): Promise<k8s.V1Pod> {
  let last: k8s.V1Pod | undefined;
  return eventually(
    `${namespace}/${name}: ${what}`,
    async () => {
      const pod = await core().readNamespacedPod({ name, namespace });
      last = pod;
      return predicate(pod) ? pod : undefined;
    },
    { timeoutMs, intervalMs: 250, lastSeen: () => last?.status },
  );
}

export async function podEvents(namespace: string, name: string): Promise<k8s.CoreV1Event[]> {
  const list = await core().listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

export function containerStatus(pod: k8s.V1Pod, name: string): k8s.V1ContainerStatus | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    (c) => c.name === name,
  );
}

/** Waits until every container of the pod runs. */
export async function allRunning(namespace: string, name: string): Promise<k8s.V1Pod> {
  return podWhere(
    namespace,
    name,
    'all containers running',
    (p) =>
      (p.status?.containerStatuses?.length ?? 0) === (p.spec?.containers.length ?? -1) &&
      (p.status?.containerStatuses ?? []).every((c) => c.state?.running !== undefined),
  );
}

/** The kubectl clients every streaming feature is tested with: the newest, and 1.27 (SPDY all the way). */
export const kubectlVersions = [
  { label: 'kubectl 1.37', version: undefined, suffix: '137' },
  { label: 'kubectl 1.27', version: '1.27', suffix: '127' },
] as const;
