import test from 'ava';
import { productVersion } from '../../shared/version.js';
import { reportedKubeletVersion } from './kubelet-version.js';

const semver = /^v\d+\.\d+\.\d+(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

test('against an older API server the kubelet version drops to its minor, never above it', (t) => {
  const v = reportedKubeletVersion({ configured: 'v1.37.2', apiServer: 'v1.33.4', product: '0.1.0' });
  t.is(v, 'v1.33.0-vic.0.1.0');
  t.regex(v, semver);
});

test('against the same or a newer API server the configured version stands, with the product visible', (t) => {
  t.is(
    reportedKubeletVersion({ configured: 'v1.37.2', apiServer: 'v1.37.2', product: productVersion }),
    `v1.37.2-vic.${productVersion}`,
  );
  t.is(
    reportedKubeletVersion({ configured: 'v1.33.1', apiServer: 'v1.35.0-gke.7', product: '0.1.0' }),
    'v1.33.1-vic.0.1.0',
  );
});

test('an operator’s own pre-release or build suffix is kept when the version is allowed', (t) => {
  t.is(
    reportedKubeletVersion({ configured: 'v1.30.0-mine.1', apiServer: 'v1.31.0', product: '0.1.0' }),
    'v1.30.0-mine.1',
  );
});

test('an API server version that is no version is an Invalid error, not a guess', (t) => {
  const err = t.throws(() =>
    reportedKubeletVersion({ configured: 'v1.37.2', apiServer: 'dev', product: '0.1.0' }),
  );
  t.regex(err?.message ?? '', /API server version "dev"/);
});
