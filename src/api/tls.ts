// The kubelet port's serving certificate: from files, self-signed at start-up, or issued by the cluster
// through a kubelet-serving CSR; renewed at 80% of its lifetime and handed to the server, which swaps it
// in without a restart. Also the TLS settings of the port (TLS 1.2 minimum, client CA).
import { X509Certificate, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { Backoff } from '../shared/backoff.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { VicError, messageOf } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { requestServingCertificate } from './tls/csr-client.js';
import { buildSelfSigned, generateServingKey, type SubjectAltNames } from './tls/x509-builder.js';

export const minTlsVersion = 'TLSv1.2';

export type ServingCertificateSource =
  | { source: 'files'; certFile: string; keyFile: string }
  | { source: 'self-signed'; validityDays?: number }
  | { source: 'csr'; kubeConfig: KubeConfig; expirationSeconds?: number; pollIntervalMs?: number };

export type ServingTlsOptions = ServingCertificateSource & {
  /** IP SANs for generated and requested certificates: the node's addresses. */
  ipAddresses?: string[];
  /** DNS SANs; the node name is always one. */
  dnsNames?: string[];
};

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the leaf, to tell one certificate from the next in logs. */
  fingerprint: string;
}

export type Obtain = (signal: AbortSignal) => Promise<{ certPem: string; keyPem: string }>;

/** When to renew: at `fraction` of the lifetime (the kubelet rotates between 70% and 90%). */
export function renewalTime(notBefore: Date, notAfter: Date, fraction = 0.8): number {
  return notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) * fraction;
}

export function describeCertificate(certPem: string, keyPem: string): ServingCertificate {
  const leaf = new X509Certificate(certPem);
  return {
    certPem,
    keyPem,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    fingerprint: createHash('sha256').update(leaf.raw).digest('hex').slice(0, 16),
  };
}

// Node's timers overflow past 2^31-1 ms (about 24.8 days) and fire at once: longer waits go in steps.
const maxTimerMs = 2 ** 31 - 1;

/** Keeps a current serving certificate: obtains one, renews it in time, tells listeners of each new one. */
export class ServingCertificateManager {
  readonly #obtain: Obtain;
  readonly #renew: boolean;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #listeners: Array<(cert: ServingCertificate) => void> = [];
  readonly #backoff = new Backoff({ initialMs: 1000, maxMs: 5 * 60_000 });
  #current: ServingCertificate | undefined;
  #timer: { cancel(): void } | undefined;
  #ready: Promise<ServingCertificate>;
  #resolveReady!: (cert: ServingCertificate) => void;
  #rejectReady!: (err: unknown) => void;
  readonly #retryFirst: boolean;

  constructor(options: {
    obtain: Obtain;
    renew: boolean;
    retryFirst: boolean;
    clock?: Clock;
    logger: Logger;
  }) {
    this.#obtain = options.obtain;
    this.#renew = options.renew;
    this.#retryFirst = options.retryFirst;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A rejection nobody awaited yet must not crash the process; ready() still reports it.
    this.#ready.catch(() => undefined);
  }

  start(): void {
    void this.#fetch();
  }

  /** The first certificate; rejects only when it cannot be had and retrying is pointless. */
  ready(): Promise<ServingCertificate> {
    return this.#ready;
  }

  current(): ServingCertificate | undefined {
    return this.#current;
  }

  onUpdate(listener: (cert: ServingCertificate) => void): void {
    this.#listeners.push(listener);
  }

  stop(): void {
    this.#stop.abort();
    this.#timer?.cancel();
    this.#rejectReady(new VicError('Canceled', 'the serving certificate manager stopped'));
  }

  async #fetch(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    let cert: ServingCertificate;
    try {
      const { certPem, keyPem } = await this.#obtain(this.#stop.signal);
      cert = describeCertificate(certPem, keyPem);
    } catch (err) {
      if (this.#stop.signal.aborted) return;
      if (!this.#current && !this.#retryFirst) {
        this.#rejectReady(err);
        return;
      }
      const wait = this.#backoff.next();
      this.#log.warn({ err, retryInMs: wait }, 'cannot obtain a serving certificate; retrying');
      this.#schedule(this.#clock.now() + wait);
      return;
    }
    this.#backoff.reset();
    this.#current = cert;
    this.#log.info(
      { fingerprint: cert.fingerprint, notAfter: cert.notAfter.toISOString() },
      'serving certificate in place',
    );
    this.#resolveReady(cert);
    for (const listener of this.#listeners) {
      try {
        listener(cert);
      } catch (err) {
        this.#log.error({ err }, 'cannot install the new serving certificate');
      }
    }
    if (this.#renew) this.#schedule(renewalTime(cert.notBefore, cert.notAfter));
  }

  #schedule(at: number): void {
    this.#timer?.cancel();
    const wait = Math.max(0, at - this.#clock.now());
    if (wait > maxTimerMs) {
      this.#timer = this.#clock.setTimeout(() => this.#schedule(at), maxTimerMs);
      return;
    }
    this.#timer = this.#clock.setTimeout(() => void this.#fetch(), wait);
  }
}

function san(nodeName: string, options: ServingTlsOptions): SubjectAltNames {
  return {
    dnsNames: [...new Set([nodeName, ...(options.dnsNames ?? [])])],
    ipAddresses: [...new Set(options.ipAddresses ?? [])],
  };
}

/** The manager for the configured source. */
export function servingCertificates(
  options: ServingTlsOptions,
  context: { nodeName: string; logger: Logger; clock?: Clock },
): ServingCertificateManager {
  const { nodeName, logger } = context;
  const clock = context.clock ?? systemClock;
  const base = { clock, logger };
  switch (options.source) {
    case 'files':
      return new ServingCertificateManager({
        ...base,
        renew: false,
        retryFirst: false,
        obtain: async () => {
          try {
            const [certPem, keyPem] = await Promise.all([
              readFile(options.certFile, 'utf8'),
              readFile(options.keyFile, 'utf8'),
            ]);
            return { certPem, keyPem };
          } catch (err) {
            throw new VicError('Invalid', `cannot read the serving certificate: ${messageOf(err)}`, {
              cause: err,
            });
          }
        },
      });
    case 'self-signed': {
      const days = options.validityDays ?? 365;
      return new ServingCertificateManager({
        ...base,
        renew: true,
        retryFirst: false,
        obtain: async () => {
          const { privateKey, keyPem } = generateServingKey();
          // Back-dated a minute so a peer with a slightly slow clock accepts it at once.
          const notBefore = new Date(clock.now() - 60_000);
          const notAfter = new Date(clock.now() + days * 86_400_000);
          const certPem = buildSelfSigned({
            subject: { commonName: nodeName },
            san: san(nodeName, options),
            privateKey,
            notBefore,
            notAfter,
          });
          return { certPem, keyPem };
        },
      });
    }
    case 'csr':
      return new ServingCertificateManager({
        ...base,
        renew: true,
        retryFirst: true,
        obtain: (signal) =>
          requestServingCertificate({
            kubeConfig: options.kubeConfig,
            nodeName,
            san: san(nodeName, options),
            logger,
            signal,
            ...(options.expirationSeconds ? { expirationSeconds: options.expirationSeconds } : {}),
            ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
          }),
      });
  }
}
