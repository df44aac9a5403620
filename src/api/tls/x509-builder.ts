// Builds what the serving certificate needs: an ECDSA P-256 key, a PKCS#10 request for the
// kubernetes.io/kubelet-serving signer, and a self-signed certificate, with the node's names as SANs.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as der from './der.js';

export interface CertificateSubject {
  commonName: string;
  organizations?: string[];
}

export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
}

const ecdsaWithSha256 = der.sequence(der.oid('1.2.840.10045.4.3.2'));

/** A fresh serving key; ECDSA P-256, as the kubelet generates for its serving certificates. */
export function generateServingKey(): { privateKey: KeyObject; keyPem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Go's pkix.Name order: O before CN. */
function distinguishedName(subject: CertificateSubject): Buffer {
  const rdn = (type: string, value: string) => der.set(der.sequence(der.oid(type), der.utf8String(value)));
  const organizations = (subject.organizations ?? []).map((o) => rdn('2.5.4.10', o));
  return der.sequence(...organizations, rdn('2.5.4.3', subject.commonName));
}

function ipv6Bytes(address: string): Buffer {
  let text = address;
  const tail: number[] = [];
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes its last two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    tail.push(...v4[1].split('.').map(Number));
    text = text.slice(0, -v4[1].length) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group || '0', 16), i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(bytes, 12);
  return bytes;
}

export function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (isIPv6(address)) return ipv6Bytes(address);
  throw new Error(`not an IP address: ${address}`);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

function subjectAltName(san: SubjectAltNames): Buffer {
  const names = [
    ...san.dnsNames.map((dns) => der.implicitPrimitive(2, Buffer.from(dns, 'ascii'))),
    ...san.ipAddresses.map((ip) => der.implicitPrimitive(7, ipBytes(ip))),
  ];
  return extension('2.5.29.17', false, der.sequence(...names));
}

/** Key usage digitalSignature + keyEncipherment, extended usage serverAuth, not a CA. */
function servingExtensions(san: SubjectAltNames): Buffer[] {
  return [
    extension('2.5.29.15', true, der.namedBits([0, 2])),
    extension('2.5.29.37', false, der.sequence(der.oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.19', true, der.sequence()),
    subjectAltName(san),
  ];
}

function spki(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
}

function signed(toBeSigned: Buffer, privateKey: KeyObject): Buffer {
  // Node's ECDSA signature is DER (r, s) already, which is what X.509 carries.
  return der.sequence(toBeSigned, ecdsaWithSha256, der.bitString(sign('sha256', toBeSigned, privateKey)));
}

/** A PKCS#10 request (PEM) with the SANs in an extensionRequest attribute. */
export function buildCsr(options: {
  subject: CertificateSubject;
  san: SubjectAltNames;
  privateKey: KeyObject;
}): string {
  const extensionRequest = der.sequence(
    der.oid('1.2.840.113549.1.9.14'),
    der.set(der.sequence(subjectAltName(options.san))),
  );
  const info = der.sequence(
    der.smallInteger(0),
    distinguishedName(options.subject),
    spki(options.privateKey),
    der.implicitConstructed(0, extensionRequest),
  );
  return pem('CERTIFICATE REQUEST', signed(info, options.privateKey));
}

/** A self-signed X.509 v3 serving certificate (PEM). */
export function buildSelfSigned(options: {
  subject: CertificateSubject;
  san: SubjectAltNames;
  privateKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}): string {
  const name = distinguishedName(options.subject);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.unsignedInteger(serial),
    ecdsaWithSha256,
    name,
    der.sequence(der.time(options.notBefore), der.time(options.notAfter)),
    name,
    spki(options.privateKey),
    der.explicit(3, der.sequence(...servingExtensions(options.san))),
  );
  return pem('CERTIFICATE', signed(tbs, options.privateKey));
}
