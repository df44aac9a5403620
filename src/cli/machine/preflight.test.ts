import test from 'ava';
import { VicError } from '../../shared/errors.js';
import { parseDuration } from './duration.js';
import { kubeletRules } from './package-files.js';
import { connectionProblem, describePermission, normalizeServer, requiredPermissions } from './preflight.js';

const where = { name: 'VCH', endpoint: 'tcp://vch:2376', trustHint: 'give --tls-ca' };

test('a self-signed VCH certificate is named as rejected, with what to do', (t) => {
  const cause = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  const err = connectionProblem(new VicError('Internal', 'ping', { cause }), where);
  t.is(
    err.message,
    'VCH certificate rejected at tcp://vch:2376 (DEPTH_ZERO_SELF_SIGNED_CERT): give --tls-ca',
  );
});

test('a refused connection is named as unreachable', (t) => {
  const err = connectionProblem(
    new VicError('VchUnavailable', 'ping', { details: { errno: 'ECONNREFUSED' } }),
    where,
  );
  t.regex(err.message, /^VCH unreachable at tcp:\/\/vch:2376 \(ECONNREFUSED\)/);
  t.is(err.code, 'VchUnavailable');
});

test('a server that wants a client certificate is named', (t) => {
  const cause = Object.assign(new Error('alert'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
  t.regex(connectionProblem(cause, where).message, /refused our client certificate/);
});

test('server addresses compare with default ports and without trailing slashes', (t) => {
  t.is(normalizeServer('https://API.example:443/'), normalizeServer('https://api.example'));
  t.is(normalizeServer('127.0.0.1:6443'), 'https://127.0.0.1:6443');
  t.not(normalizeServer('https://127.0.0.1:6443'), normalizeServer('https://127.0.0.1:16443'));
});

test('the permissions checked are every verb of deploy/rbac.yaml plus the review APIs', (t) => {
  const described = requiredPermissions(kubeletRules()).map(describePermission);
  t.true(described.includes('create nodes'));
  t.true(described.includes('patch pods/status'));
  t.true(described.includes('update leases.coordination.k8s.io'));
  t.true(described.includes('create tokenreviews.authentication.k8s.io'));
  t.true(described.includes('create subjectaccessreviews.authorization.k8s.io'));
});

test('durations read as the original tool writes them', (t) => {
  t.is(parseDuration('3m0s'), 180_000);
  t.is(parseDuration('90s'), 90_000);
  t.is(parseDuration('1h30m'), 5_400_000);
  t.is(parseDuration('250ms'), 250);
  t.throws(() => parseDuration('3 minutes'), { message: /--timeout: "3 minutes" is not a duration/ });
});
