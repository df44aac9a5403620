// A pod's security context as a kubelet applies it: pod and container levels merged into the
// settings of one container (kubernetes pkg/kubelet/kuberuntime/security_context.go,
// determineEffectiveSecurityContext; pkg/securitycontext/util.go), the runAsNonRoot check against the
// image's user (kuberuntime/security_context_others.go, verifyRunAsNonRoot), the sysctl allowlist
// (pkg/kubelet/sysctl), and what the node refuses because it cannot give it.
import type { V1Container, V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import type { LayoutSettings } from '../../vch/index.js';
import type { ContainerSecurity } from '../../vch/types.js';

/** Container-level settings over pod-level ones, for the fields both levels have. */
function effective(pod: V1Pod, container: V1Container): V1SecurityContext {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const pick = <K extends keyof V1SecurityContext & keyof typeof podSc>(key: K) => sc[key] ?? podSc[key];
  return {
    ...sc,
    ...(pick('runAsUser') !== undefined ? { runAsUser: pick('runAsUser') } : {}),
    ...(pick('runAsGroup') !== undefined ? { runAsGroup: pick('runAsGroup') } : {}),
    ...(pick('runAsNonRoot') !== undefined ? { runAsNonRoot: pick('runAsNonRoot') } : {}),
    ...(pick('seccompProfile') !== undefined ? { seccompProfile: pick('seccompProfile') } : {}),
    ...(pick('seLinuxOptions') !== undefined ? { seLinuxOptions: pick('seLinuxOptions') } : {}),
    ...(pick('appArmorProfile') !== undefined ? { appArmorProfile: pick('appArmorProfile') } : {}),
  };
}

/**
 * The process settings of one container. Supplemental groups are the pod's fsGroup then its
 * supplementalGroups, as the kubelet lists them. Without a seccomp profile the kubelet (its
 * seccompDefault off, the default) runs the container unconfined; RuntimeDefault is the engine's
 * default profile.
 */
export function containerSecurity(pod: V1Pod, container: V1Container): ContainerSecurity | undefined {
  const sc = effective(pod, container);
  const podSc = pod.spec?.securityContext ?? {};
  const out: ContainerSecurity = {};
  if (sc.runAsUser !== undefined) out.uid = sc.runAsUser;
  if (sc.runAsGroup !== undefined) out.gid = sc.runAsGroup;
  const groups = [
    ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []),
    ...(podSc.supplementalGroups ?? []),
  ];
  if (groups.length) out.supplementalGroups = groups;
  if (sc.readOnlyRootFilesystem) out.readOnlyRootfs = true;
  if (sc.allowPrivilegeEscalation === false) out.noNewPrivileges = true;
  if (sc.capabilities?.add?.length) out.capAdd = [...sc.capabilities.add];
  if (sc.capabilities?.drop?.length) out.capDrop = [...sc.capabilities.drop];
  const seccomp = sc.seccompProfile?.type;
  if (seccomp === undefined || seccomp === 'Unconfined') out.seccompUnconfined = true;
  return Object.keys(out).length ? out : undefined;
}

function podLabel(pod: V1Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

/**
 * The kubelet's refusal to start a container that would run as root under runAsNonRoot, in its
 * words; undefined when it may start. `imageUser` is the image's Config.User ('' for none: root).
 */
export function runAsNonRootViolation(
  pod: V1Pod,
  container: V1Container,
  imageUser: string,
): string | undefined {
  const sc = effective(pod, container);
  if (!sc.runAsNonRoot) return undefined;
  const where = `(pod: "${podLabel(pod)}", container: ${container.name})`;
  if (sc.runAsUser !== undefined) {
    return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  }
  // The image's user is "name", "uid", "name:group" or "uid:gid"; only the user part counts.
  const user = imageUser.split(':')[0] ?? '';
  if (user === '' || /^0+$/.test(user))
    return `container has runAsNonRoot and image will run as root ${where}`;
  if (!/^\d+$/.test(user)) {
    return `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`;
  }
  return undefined;
}

/** What the node cannot give whatever the layout: each as the field that asks for it. */
export function securityNeverSupported(pod: V1Pod): string[] {
  const found: string[] = [];
  const podSc = pod.spec?.securityContext;
  // A user namespace per pod is the runtime's to make; the engine's API has none per container.
  if (pod.spec?.hostUsers === false) found.push('spec.hostUsers (false: a user namespace)');
  if (podSc?.seccompProfile?.type === 'Localhost') {
    found.push('spec.securityContext.seccompProfile (Localhost: this node keeps no seccomp profiles)');
  }
  if (podSc?.appArmorProfile?.type === 'Localhost') {
    found.push('spec.securityContext.appArmorProfile (Localhost: this node keeps no AppArmor profiles)');
  }
  if (podSc?.seLinuxOptions) found.push('spec.securityContext.seLinuxOptions');
  for (const [field, c] of containersOf(pod)) {
    const sc = c.securityContext;
    if (!sc) continue;
    const at = `spec.${field}[${c.name}].securityContext`;
    if (sc.procMount && sc.procMount !== 'Default') found.push(`${at}.procMount (${sc.procMount})`);
    if (sc.seccompProfile?.type === 'Localhost') {
      found.push(`${at}.seccompProfile (Localhost: this node keeps no seccomp profiles)`);
    }
    if (sc.appArmorProfile?.type === 'Localhost') {
      found.push(`${at}.appArmorProfile (Localhost: this node keeps no AppArmor profiles)`);
    }
    if (sc.seLinuxOptions) found.push(`${at}.seLinuxOptions`);
  }
  return found;
}

function containersOf(pod: V1Pod): Array<[string, V1Container]> {
  return [
    ...(pod.spec?.initContainers ?? []).map((c): [string, V1Container] => ['initContainers', c]),
    ...(pod.spec?.containers ?? []).map((c): [string, V1Container] => ['containers', c]),
  ];
}

/** Security and hosts fields of the pod that the layout's containers cannot be given. */
export function securityUnsupported(pod: V1Pod, settings: LayoutSettings | undefined): string[] {
  const found: string[] = [];
  if (!settings) return found;
  const podSc = pod.spec?.securityContext ?? {};
  if (!settings.supplementalGroups) {
    if (podSc.supplementalGroups?.length) found.push('spec.securityContext.supplementalGroups');
    if (podSc.fsGroup !== undefined) found.push('spec.securityContext.fsGroup');
  }
  if (!settings.sysctls && podSc.sysctls?.length) found.push('spec.securityContext.sysctls');
  if (!settings.extraHosts && pod.spec?.hostAliases?.length) found.push('spec.hostAliases');
  if (!settings.seccomp && podSc.seccompProfile?.type === 'RuntimeDefault') {
    found.push('spec.securityContext.seccompProfile (RuntimeDefault)');
  }
  if (!settings.user && (podSc.runAsUser !== undefined || podSc.runAsGroup !== undefined)) {
    found.push('spec.securityContext.runAsUser/runAsGroup');
  }
  for (const [field, c] of containersOf(pod)) {
    const sc = c.securityContext;
    if (!sc) continue;
    const at = `spec.${field}[${c.name}].securityContext`;
    if (!settings.readOnlyRootfs && sc.readOnlyRootFilesystem) found.push(`${at}.readOnlyRootFilesystem`);
    if (!settings.noNewPrivileges && sc.allowPrivilegeEscalation === false) {
      found.push(`${at}.allowPrivilegeEscalation`);
    }
    if (!settings.capabilities && (sc.capabilities?.add?.length || sc.capabilities?.drop?.length)) {
      found.push(`${at}.capabilities`);
    }
    if (!settings.seccomp && sc.seccompProfile?.type === 'RuntimeDefault') {
      found.push(`${at}.seccompProfile (RuntimeDefault)`);
    }
    if (!settings.user && (sc.runAsUser !== undefined || sc.runAsGroup !== undefined)) {
      found.push(`${at}.runAsUser/runAsGroup`);
    }
  }
  return found;
}

// ---- Sysctls ----------------------------------------------------------------------------------

/**
 * The sysctls a kubelet allows without configuration: namespaced to the pod and isolated from other
 * pods (pkg/kubelet/sysctl/safe_sysctls.go; the kernel minimums are all below any kernel a Docker
 * engine runs on today).
 */
export const safeSysctls: readonly string[] = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

export const sysctlForbiddenReason = 'SysctlForbidden';

/** `net/ipv4/x` is `net.ipv4.x` (k8s.io/component-helpers/node/util/sysctl). */
export function normalizeSysctl(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** Whether the kernel namespaces the sysctl to the pod's IPC or network namespace (NamespacedBy). */
export function namespacedSysctl(name: string): boolean {
  const s = normalizeSysctl(name);
  return (
    s.startsWith('kernel.shm') ||
    s.startsWith('kernel.msg') ||
    s === 'kernel.sem' ||
    s.startsWith('fs.mqueue.') ||
    s.startsWith('net.')
  );
}

/**
 * The operator's `--allowed-unsafe-sysctls` patterns (a name, or a prefix ending in `*`), checked as
 * the kubelet checks them at start: each must be namespaced, else it would reach other pods.
 */
export function checkAllowedSysctls(patterns: readonly string[]): string[] {
  return patterns.filter((p) => !namespacedSysctl(p.endsWith('*') ? p.slice(0, -1) : p));
}

/** The kubelet's SysctlForbidden message for the first sysctl not allowed, or undefined. */
export function forbiddenSysctl(pod: V1Pod, allowedUnsafe: readonly string[] = []): string | undefined {
  const patterns = [...safeSysctls, ...allowedUnsafe].map(normalizeSysctl);
  for (const { name } of pod.spec?.securityContext?.sysctls ?? []) {
    const s = normalizeSysctl(name);
    const allowed = patterns.some((p) => (p.endsWith('*') ? s.startsWith(p.slice(0, -1)) : p === s));
    if (!allowed) return `forbidden sysctl: "${s}" not allowlisted`;
    if (pod.spec?.hostNetwork && s.startsWith('net.')) {
      return `forbidden sysctl: "${s}" not allowed with host net enabled`;
    }
    if (pod.spec?.hostIPC && !s.startsWith('net.')) {
      return `forbidden sysctl: "${s}" not allowed with host ipc enabled`;
    }
  }
  return undefined;
}

/** The pod's sysctls as the engine takes them, with dots. */
export function podSysctls(pod: V1Pod): Record<string, string> | undefined {
  const list = pod.spec?.securityContext?.sysctls ?? [];
  if (!list.length) return undefined;
  return Object.fromEntries(list.map((s) => [normalizeSysctl(s.name), s.value]));
}
