// Ephemeral containers (`kubectl debug`): what a pod layout lets a debug container do. One joins the
// pod's sandbox (network, IPC, and with `--target` the target container's PID namespace) and runs
// like any other container, once, never restarted (state/container-plan.ts plans it). A layout whose
// containers share no namespaces (vm-per-pod: every container its own VM) cannot give a debug
// container anything of the pod to look at, so there it is reported as a kubelet reports a container
// it could not create: waiting, with CreateContainerError and a message that says why, and an event.
import type { LayoutLimits } from '../../vch/index.js';

/** Why this layout cannot start an ephemeral container; undefined when it can. */
export function ephemeralRefusal(limits: LayoutLimits | undefined): string | undefined {
  if (!limits || (limits.sharedLocalhost && limits.shareProcessNamespace)) return undefined;
  return `ephemeral containers need the pod's namespaces, which this node cannot share: ${limits.because}; use kubectl exec, or a pod of its own to debug from`;
}
