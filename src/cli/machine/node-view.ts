// What the cluster says about a virtual node: its Ready condition, versions and the pods bound to it.
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { messageOf } from '../../shared/errors.js';

export interface NodeView {
  /** Ready, NotReady, Unknown (the condition), absent (no Node object) or unreachable (no answer). */
  state: 'Ready' | 'NotReady' | 'Unknown' | 'absent' | 'unreachable';
  reason?: string;
  message?: string;
  /** When vic-kubelet last wrote the Ready condition. */
  heartbeat?: Date;
  kubeletVersion?: string;
  pods?: number;
}

export function readyState(node: V1Node): Pick<NodeView, 'state' | 'reason' | 'message' | 'heartbeat'> {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) return { state: 'Unknown', message: 'no Ready condition yet' };
  const state = ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown';
  return {
    state,
    ...(ready.reason ? { reason: ready.reason } : {}),
    ...(ready.message ? { message: ready.message } : {}),
    ...(ready.lastHeartbeatTime ? { heartbeat: new Date(ready.lastHeartbeatTime) } : {}),
  };
}

export async function viewNode(kc: KubeConfig, name: string, withPods = true): Promise<NodeView> {
  const core = kc.makeApiClient(CoreV1Api);
  let node: V1Node;
  try {
    node = await core.readNode({ name });
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return { state: 'absent' };
    return { state: 'unreachable', message: messageOf(err) };
  }
  const view: NodeView = {
    ...readyState(node),
    ...(node.status?.nodeInfo?.kubeletVersion ? { kubeletVersion: node.status.nodeInfo.kubeletVersion } : {}),
  };
  if (withPods) {
    const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` });
    view.pods = pods.items.length;
  }
  return view;
}
