import { X509Certificate, createPrivateKey } from 'node:crypto';
import test from 'ava';
import { VicError } from '../shared/errors.js';
import { FakeClock } from '../shared/fake-clock.js';
import { silentLogger } from '../shared/logger.js';
import {
  ServingCertificateManager,
  renewalTime,
  servingCertificates,
  type ServingCertificate,
} from './tls.js';
import { issuedCertificate } from './tls/csr-client.js';
import { buildSelfSigned, generateServingKey, ipBytes } from './tls/x509-builder.js';

const day = 86_400_000;

function selfSigned(clock: FakeClock, lifetimeMs: number) {
  const { privateKey, keyPem } = generateServingKey();
  const certPem = buildSelfSigned({
    subject: { commonName: 'n' },
    san: { dnsNames: ['n'], ipAddresses: [] },
    privateKey,
    notBefore: new Date(clock.now()),
    notAfter: new Date(clock.now() + lifetimeMs),
  });
  return { certPem, keyPem };
}

/** Waits for the manager's next certificate. */
function nextUpdate(manager: ServingCertificateManager): Promise<ServingCertificate> {
  return new Promise((resolve) => manager.onUpdate(resolve));
}

test('renewal is due at 80% of the lifetime', (t) => {
  t.is(renewalTime(new Date(1000), new Date(11_000)), 9000);
});

test('the manager renews at 80% and hands each new certificate to its listeners', async (t) => {
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
  let obtained = 0;
  const manager = new ServingCertificateManager({
    obtain: async () => {
      obtained += 1;
      return selfSigned(clock, 10 * day);
    },
    renew: true,
    retryFirst: false,
    clock,
    logger: silentLogger,
  });
  const first = nextUpdate(manager);
  manager.start();
  const cert = await first;
  t.is(obtained, 1);
  t.is(await manager.ready(), cert);
  const second = nextUpdate(manager);
  clock.advance(8 * day - 1000);
  t.is(obtained, 1);
  clock.advance(1000);
  const renewed = await second;
  t.is(obtained, 2);
  t.not(renewed.fingerprint, cert.fingerprint);
  t.is(manager.current(), renewed);
  manager.stop();
});

test('a lifetime beyond the timer range is waited for in steps, not renewed at once', async (t) => {
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
  let obtained = 0;
  const manager = new ServingCertificateManager({
    obtain: async () => {
      obtained += 1;
      return selfSigned(clock, 365 * day);
    },
    renew: true,
    retryFirst: false,
    clock,
    logger: silentLogger,
  });
  manager.start();
  await manager.ready();
  clock.advance(200 * day);
  t.is(obtained, 1);
  const renewed = nextUpdate(manager);
  clock.advance(92 * day);
  await renewed;
  t.is(obtained, 2);
  manager.stop();
});

test('a failed renewal keeps the current certificate and retries', async (t) => {
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
  let fail = false;
  let obtained = 0;
  const manager = new ServingCertificateManager({
    obtain: async () => {
      obtained += 1;
      if (fail) throw new VicError('ApiServerUnavailable', 'down');
      return selfSigned(clock, 10 * day);
    },
    renew: true,
    retryFirst: true,
    clock,
    logger: silentLogger,
  });
  manager.start();
  const first = await manager.ready();
  fail = true;
  clock.advance(8 * day);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(obtained, 2);
  t.is(manager.current(), first);
  fail = false;
  const renewed = nextUpdate(manager);
  clock.advance(10 * 60_000);
  await renewed;
  t.is(obtained, 3);
  manager.stop();
});

test('unreadable certificate files fail ready() with a clear message', async (t) => {
  const manager = servingCertificates(
    { source: 'files', certFile: '/nonexistent/tls.crt', keyFile: '/nonexistent/tls.key' },
    { nodeName: 'n', logger: silentLogger },
  );
  manager.start();
  const err = await t.throwsAsync(manager.ready(), { instanceOf: VicError });
  t.regex(err?.message ?? '', /cannot read the serving certificate: .*nonexistent/);
});

test('a self-signed certificate names the node and its addresses and matches its key', async (t) => {
  const manager = servingCertificates(
    { source: 'self-signed', ipAddresses: ['10.0.0.7', 'fd00::7'], dnsNames: ['vk.example'] },
    { nodeName: 'vk-node', logger: silentLogger },
  );
  manager.start();
  const cert = await manager.ready();
  const x509 = new X509Certificate(cert.certPem);
  t.is(x509.subject, 'CN=vk-node');
  t.is(
    x509.subjectAltName,
    'DNS:vk-node, DNS:vk.example, IP Address:10.0.0.7, IP Address:FD00:0:0:0:0:0:0:7',
  );
  t.true(x509.checkPrivateKey(createPrivateKey(cert.keyPem)));
  t.true(x509.verify(x509.publicKey));
  t.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  t.false(x509.ca);
  t.true(cert.notAfter.getTime() - cert.notBefore.getTime() > 364 * day);
  manager.stop();
});

test('IP addresses encode as 4 or 16 bytes', (t) => {
  t.deepEqual([...ipBytes('192.168.1.2')], [192, 168, 1, 2]);
  t.is(ipBytes('::1').toString('hex'), '00000000000000000000000000000001');
  t.is(ipBytes('2001:db8::8a2e:370:7334').toString('hex'), '20010db80000000000008a2e03707334');
  t.is(ipBytes('::ffff:10.1.2.3').toString('hex'), '00000000000000000000ffff0a010203');
  t.throws(() => ipBytes('vk-node'));
});

test('a CSR answer: pending, issued, denied, failed', (t) => {
  const base = {
    metadata: { name: 'csr-1' },
    spec: { request: '', signerName: 'kubernetes.io/kubelet-serving' },
  };
  t.is(issuedCertificate(base), undefined);
  t.is(issuedCertificate({ ...base, status: { certificate: Buffer.from('PEM').toString('base64') } }), 'PEM');
  const denied = {
    ...base,
    status: { conditions: [{ type: 'Denied', status: 'True', reason: 'Nope', message: 'not this node' }] },
  };
  t.throws(() => issuedCertificate(denied), {
    message: 'certificate request csr-1 was denied: Nope: not this node',
  });
  const failed = {
    ...base,
    status: { conditions: [{ type: 'Failed', status: 'True', reason: 'SignerValidationFailure' }] },
  };
  t.throws(() => issuedCertificate(failed), { message: /csr-1 failed: SignerValidationFailure/ });
});
