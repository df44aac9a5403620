// Obtains a serving certificate from the cluster: a CertificateSigningRequest for the
// kubernetes.io/kubelet-serving signer, then waiting until someone approves it and the signer issues it.
// Such requests are never approved automatically: an administrator (or an approver) has to.
import { X509Certificate } from 'node:crypto';
import {
  ApiException,
  CertificatesV1Api,
  type KubeConfig,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';
import { Backoff, delay } from '../../shared/backoff.js';
import { VicError, messageOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { buildCsr, generateServingKey, type SubjectAltNames } from './x509-builder.js';

export const kubeletServingSigner = 'kubernetes.io/kubelet-serving';

export interface CsrOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  san: SubjectAltNames;
  /** Asked-for lifetime; the signer may shorten it (its default is a year). At least 600. */
  expirationSeconds?: number;
  /** How often to look at the request while it waits for approval. */
  pollIntervalMs?: number;
  logger: Logger;
  signal: AbortSignal;
}

function apiError(action: string, err: unknown): VicError {
  if (err instanceof ApiException) {
    const code = err.code === 403 ? 'Forbidden' : err.code >= 500 ? 'ApiServerUnavailable' : 'Invalid';
    return new VicError(code, `${action}: HTTP ${err.code}: ${String(err.body).slice(0, 300)}`, {
      cause: err,
    });
  }
  return new VicError('ApiServerUnavailable', `${action}: ${messageOf(err)}`, { cause: err });
}

/** Object names are DNS subdomains of at most 253 characters; generateName adds 5. */
function namePrefix(nodeName: string): string {
  return `${nodeName.slice(0, 200)}-serving-`;
}

/** The issued certificate chain (PEM), undefined while pending; throws when denied or failed. */
export function issuedCertificate(csr: V1CertificateSigningRequest): string | undefined {
  const name = csr.metadata?.name ?? '';
  for (const condition of csr.status?.conditions ?? []) {
    if (condition.status !== 'True') continue;
    const why = [condition.reason, condition.message].filter(Boolean).join(': ');
    if (condition.type === 'Denied')
      throw new VicError('Forbidden', `certificate request ${name} was denied: ${why}`);
    if (condition.type === 'Failed')
      throw new VicError('Invalid', `certificate request ${name} failed: ${why}`);
  }
  const certificate = csr.status?.certificate;
  return certificate ? Buffer.from(certificate, 'base64').toString('utf8') : undefined;
}

/** Creates the request and waits, as long as it takes or until `signal` aborts, for the certificate. */
export async function requestServingCertificate(
  options: CsrOptions,
): Promise<{ certPem: string; keyPem: string }> {
  const api = options.kubeConfig.makeApiClient(CertificatesV1Api);
  const { privateKey, keyPem } = generateServingKey();
  const request = buildCsr({
    subject: { commonName: `system:node:${options.nodeName}`, organizations: ['system:nodes'] },
    san: options.san,
    privateKey,
  });
  let created: V1CertificateSigningRequest;
  try {
    created = await api.createCertificateSigningRequest({
      body: {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { generateName: namePrefix(options.nodeName) },
        spec: {
          request: Buffer.from(request).toString('base64'),
          signerName: kubeletServingSigner,
          usages: ['digital signature', 'key encipherment', 'server auth'],
          ...(options.expirationSeconds ? { expirationSeconds: options.expirationSeconds } : {}),
        },
      },
    });
  } catch (err) {
    throw apiError('create the serving certificate request', err);
  }
  const name = created.metadata?.name ?? '';
  options.logger.info(
    { csr: name, signer: kubeletServingSigner },
    `serving certificate requested: waiting for approval (kubectl certificate approve ${name})`,
  );
  const retry = new Backoff({ initialMs: options.pollIntervalMs ?? 1000, maxMs: 30_000 });
  for (let csr = created; ;) {
    const chain = issuedCertificate(csr);
    if (chain) {
      if (!new X509Certificate(chain).checkPrivateKey(privateKey)) {
        throw new VicError(
          'Invalid',
          `certificate request ${name}: the issued certificate does not match the key`,
        );
      }
      options.logger.info({ csr: name }, 'serving certificate issued');
      return { certPem: chain, keyPem };
    }
    await delay(options.pollIntervalMs ?? 1000, options.signal);
    if (options.signal.aborted)
      throw new VicError('Canceled', `stopped waiting for certificate request ${name}`);
    try {
      csr = await api.readCertificateSigningRequest({ name });
      retry.reset();
    } catch (err) {
      const failure = apiError(`read certificate request ${name}`, err);
      if (err instanceof ApiException && err.code === 404) throw failure;
      options.logger.warn({ err: failure }, 'cannot read the certificate request; retrying');
      await delay(retry.next(), options.signal);
    }
  }
}
