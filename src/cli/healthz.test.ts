// /healthz answers "ok"; any other path is a 404.
import test from 'ava';
import { silentLogger } from '../shared/logger.js';
import { startHealthz } from './healthz.js';

test('GET /healthz is ok and other paths are 404', async (t) => {
  const healthz = await startHealthz({ address: '127.0.0.1', port: 0, logger: silentLogger });
  t.teardown(() => healthz.close());
  const base = `http://127.0.0.1:${healthz.port}`;
  const ok = await fetch(`${base}/healthz`);
  t.is(ok.status, 200);
  t.is(await ok.text(), 'ok');
  t.is((await fetch(`${base}/pods`)).status, 404);
  t.is((await fetch(`${base}/healthz`, { method: 'POST' })).status, 404);
});
