// The serving certificate obtained from the cluster: the server files a kubelet-serving CSR, the test
// approves it as an administrator would, the controller-manager signs it with the cluster CA, and the
// server serves it without a restart.
import { X509Certificate } from 'node:crypto';
import { connect, type PeerCertificate } from 'node:tls';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { fetchText } from '../../../src/api/testing/http-client.js';
import { eventually, kubeConfig, kubectl, uniqueName } from '../../support/env.js';
import { clusterCa, kubeletClientTls, startServer } from './_helpers.js';

test('the server obtains its serving certificate through an approved CSR', async (t) => {
  const kc = kubeConfig();
  const certificates = kc.makeApiClient(k8s.CertificatesV1Api);
  const nodeName = uniqueName('vk-api-csr');
  const started = await startServer(nodeName, {
    tls: { source: 'csr', kubeConfig: kc, pollIntervalMs: 300, ipAddresses: ['127.0.0.1'] },
  });
  t.teardown(() => started.server.close());

  const csr = await eventually('the serving CSR', async () => {
    const list = await certificates.listCertificateSigningRequest();
    return list.items.find((item) => item.metadata?.name?.startsWith(`${nodeName}-serving-`));
  });
  const csrName = csr.metadata?.name ?? '';
  t.teardown(() =>
    certificates.deleteCertificateSigningRequest({ name: csrName }).then(
      () => undefined,
      () => undefined,
    ),
  );
  t.is(csr.spec.signerName, 'kubernetes.io/kubelet-serving');
  t.deepEqual([...(csr.spec.usages ?? [])].sort(), ['digital signature', 'key encipherment', 'server auth']);

  const approve = await kubectl(['certificate', 'approve', csrName]);
  t.is(approve.exitCode, 0, approve.stderr);
  const serving = await started.server.servingCertificate();

  // Verified against the cluster CA, including the IP SAN of the address we dial.
  const ca = clusterCa();
  const peer = await new Promise<PeerCertificate>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: started.port, ca }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
  const leaf = new X509Certificate(peer.raw);
  const caCert = new X509Certificate(ca);
  t.true(leaf.checkIssued(caCert));
  t.true(leaf.verify(caCert.publicKey));
  t.is(leaf.issuer, caCert.subject);
  t.is(leaf.subject, `O=system:nodes\nCN=system:node:${nodeName}`);
  t.regex(leaf.subjectAltName ?? '', new RegExp(`DNS:${nodeName}.*IP Address:127\\.0\\.0\\.1`));
  t.is(leaf.fingerprint256, new X509Certificate(serving.certPem).fingerprint256);

  const healthz = await fetchText(
    { port: started.port, https: true, tls: { ...kubeletClientTls(), ca, rejectUnauthorized: true } },
    'GET',
    '/healthz',
  );
  t.like(healthz, { status: 200, body: 'ok' });
});
