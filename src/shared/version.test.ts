import { readFileSync } from 'node:fs';
import test from 'ava';
import { productVersion } from './version.js';

test('productVersion is the version package.json declares', (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  t.is(productVersion, pkg.version);
});
