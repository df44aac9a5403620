// The checks `vic-machine create` runs before it starts anything, each failing with a sentence that
// says what is wrong and what to do: the VCH answers as a Docker engine and its certificate is
// accepted; the kubeconfig talks to the --k8s-server-address API server, its credentials work, and
// its user holds every permission of the vic-kubelet ClusterRole (SelfSubjectAccessReview).
import { AuthorizationV1Api, KubeConfig, type V1ResourceAttributes } from '@kubernetes/client-node';
import { VicError, messageOf } from '../../shared/errors.js';
import { createClient, ping, type TlsOptions } from '../../vch/client.js';
import type { PolicyRule } from './package-files.js';

// Node's codes for a server certificate the client does not trust.
const untrustedCertificate = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
// OpenSSL alerts by which a server refuses the client's certificate (or its absence).
const clientCertificateRefused =
  /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE)/;
const unreachable = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EACCES',
  'ECONNRESET',
]);

/** The error codes along a cause chain (Node errors and VicError details). */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  for (let e = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const errno = (e as { details?: { errno?: unknown } }).details?.errno;
    if (typeof errno === 'string') codes.push(errno);
  }
  return codes;
}

/** One sentence for a failed connection to a TLS or plain endpoint. */
export function connectionProblem(
  err: unknown,
  what: { name: string; endpoint: string; trustHint: string },
): VicError {
  const codes = codesOf(err);
  const untrusted = codes.find((c) => untrustedCertificate.has(c));
  if (untrusted)
    return new VicError(
      'Unauthorized',
      `${what.name} certificate rejected at ${what.endpoint} (${untrusted}): ${what.trustHint}`,
      { cause: err },
    );
  const refused = codes.find((c) => clientCertificateRefused.test(c));
  if (refused)
    return new VicError(
      'Unauthorized',
      `${what.name} at ${what.endpoint} refused our client certificate (${refused}): give the key pair it accepts`,
      { cause: err },
    );
  const down = codes.find((c) => unreachable.has(c));
  if (down || codes.includes('Timeout'))
    return new VicError(
      'VchUnavailable',
      `${what.name} unreachable at ${what.endpoint} (${down ?? 'no answer'}): is it running, and is the address right?`,
      { cause: err },
    );
  return new VicError('Internal', `${what.name} at ${what.endpoint}: ${messageOf(err)}`, { cause: err });
}

export interface VchAnswer {
  engineVersion: string;
  apiVersion: string;
  os: string;
}

/** Ping and version of the VCH, as vic-kubelet will reach it. */
export async function checkVch(
  endpoint: string,
  tls: TlsOptions | undefined,
  timeoutMs: number,
): Promise<VchAnswer> {
  const client = createClient({ endpoint, ...(tls ? { tls } : {}) });
  try {
    await ping(client, timeoutMs);
    const version = await client.docker.version();
    return { engineVersion: version.Version, apiVersion: version.ApiVersion, os: version.Os };
  } catch (err) {
    throw connectionProblem(err, {
      name: 'VCH',
      endpoint,
      trustHint:
        'give the CA that signed it (--tls-ca), the VCH certificate itself (--tls-server-cert), or --no-tlsverify',
    });
  }
}

/** https://HOST:443/ and https://host are the same server. */
export function normalizeServer(address: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(address) ? address : `https://${address}`);
  } catch {
    return address;
  }
  const port = url.port || (url.protocol === 'http:' ? '80' : '443');
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
}

/** Loads the kubeconfig and checks it names the API server given by --k8s-server-address. */
export function loadCheckedKubeConfig(file: string, serverAddress: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new VicError('Invalid', `cannot read --k8s-config ${file}: ${messageOf(err)}`, { cause: err });
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new VicError('Invalid', `--k8s-config ${file} has no current cluster`);
  if (normalizeServer(server) !== normalizeServer(serverAddress))
    throw new VicError(
      'Invalid',
      `--k8s-config ${file} points at ${server}, not at --k8s-server-address ${serverAddress}: ` +
        'give the kubeconfig of that cluster, or the address it names',
    );
  return kc;
}

export interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

/** Every verb on every resource of the rules, plus what the kubelet API's own checks need. */
export function requiredPermissions(rules: PolicyRule[]): Permission[] {
  const out: Permission[] = [];
  for (const rule of rules)
    for (const group of rule.apiGroups ?? [''])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs) {
          const [name = resource, subresource] = resource.split('/');
          out.push({ verb, group, resource: name, ...(subresource ? { subresource } : {}) });
        }
  // system:auth-delegator, bound beside the ClusterRole: TokenReview and SubjectAccessReview guard the
  // kubelet API (src/api/auth).
  out.push({ verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' });
  out.push({ verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' });
  return out;
}

export function describePermission(p: Permission): string {
  const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  return `${p.verb} ${p.group ? `${resource}.${p.group}` : resource}`;
}

/**
 * Asks the API server, as the kubeconfig's user, whether it may do each thing vic-kubelet does.
 * Fails on unreachable servers, refused credentials (401) and missing permissions, each by name.
 */
export async function checkPermissions(kc: KubeConfig, permissions: Permission[]): Promise<void> {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const server = kc.getCurrentCluster()?.server ?? '(unknown)';
  const ask = async (p: Permission): Promise<boolean> => {
    const resourceAttributes: V1ResourceAttributes = {
      verb: p.verb,
      group: p.group,
      resource: p.resource,
      ...(p.subresource ? { subresource: p.subresource } : {}),
    };
    const review = await api.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes },
      },
    });
    return review.status?.allowed === true;
  };
  let answers: boolean[];
  try {
    answers = await Promise.all(permissions.map(ask));
  } catch (err) {
    const status = (err as { code?: unknown }).code;
    if (status === 401)
      throw new VicError(
        'Unauthorized',
        `the API server at ${server} refused the credentials of --k8s-config (401 Unauthorized)`,
        { cause: err },
      );
    throw connectionProblem(err, {
      name: 'API server',
      endpoint: server,
      trustHint: 'the kubeconfig’s certificate-authority does not match the API server',
    });
  }
  const missing = permissions.filter((_, i) => !answers[i]);
  if (missing.length > 0) {
    const user = kc.getCurrentUser()?.name ?? 'the current user';
    throw new VicError(
      'Forbidden',
      `RBAC: the user "${user}" of --k8s-config may not ${missing.map(describePermission).join(', ')}. ` +
        'Bind it to the vic-kubelet ClusterRole and system:auth-delegator (deploy/rbac.yaml; ' +
        '`vic-machine manifests` prints them)',
      { details: { missing: missing.map(describePermission) } },
    );
  }
}
