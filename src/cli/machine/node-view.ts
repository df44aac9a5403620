// What the cluster says about a virtual node: its Ready condition, versions, what its VCH is and can do,
// and the pods bound to it.
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { abilitiesAnnotation } from '../../provider/node/node-object.js';
import { messageOf } from '../../shared/errors.js';

/** The VCH as vic-kubelet read it (the Node's abilities annotation): identity, layout, abilities. */
export interface VchView {
  product?: string;
  name?: string;
  version?: string;
  apiVersion?: string;
  layout?: string;
  abilities: Record<string, boolean>;
  /** What the operator set rather than detection (`--vch-layout`, `--vch-abilities`). */
  overridden?: string[];
}

export interface NodeView {
  /** Ready, NotReady, Unknown (the condition), absent (no Node object) or unreachable (no answer). */
  state: 'Ready' | 'NotReady' | 'Unknown' | 'absent' | 'unreachable';
  reason?: string;
  message?: string;
  /** When vic-kubelet last wrote the Ready condition. */
  heartbeat?: Date;
  kubeletVersion?: string;
  vch?: VchView;
  pods?: number;
}

/** The Node's abilities annotation, read leniently: an annotation that is not ours says nothing. */
export function vchView(node: V1Node): VchView | undefined {
  const text = node.metadata?.annotations?.[abilitiesAnnotation];
  if (!text) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const abilities = Object.fromEntries(
    Object.entries(typeof o.abilities === 'object' && o.abilities !== null ? o.abilities : {}).filter(
      (e): e is [string, boolean] => typeof e[1] === 'boolean',
    ),
  );
  const view: VchView = { abilities };
  for (const key of ['product', 'name', 'version', 'apiVersion', 'layout'] as const) {
    const value = str(o[key]);
    if (value !== undefined) view[key] = value;
  }
  if (Array.isArray(o.overridden))
    view.overridden = o.overridden.filter((x): x is string => typeof x === 'string');
  return view;
}

/** One line: layout, product, what the VCH can and cannot do, and what the operator set. */
export function describeVch(vch: VchView): string {
  const can = Object.keys(vch.abilities).filter((k) => vch.abilities[k]);
  const cannot = Object.keys(vch.abilities).filter((k) => !vch.abilities[k]);
  const what = [vch.name ?? vch.product, vch.version].filter(Boolean).join(' ');
  return [
    `layout ${vch.layout ?? 'unknown'}${what ? ` on ${what}` : ''}`,
    `can: ${can.join(', ') || 'nothing'}`,
    ...(cannot.length ? [`cannot: ${cannot.join(', ')}`] : []),
    ...(vch.overridden?.length ? [`set by the operator: ${vch.overridden.join(', ')}`] : []),
  ].join('; ');
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
  const vch = vchView(node);
  if (vch) view.vch = vch;
  if (withPods) {
    const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` });
    view.pods = pods.items.length;
  }
  return view;
}
