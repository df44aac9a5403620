import test from 'ava';
import type { Agent as HttpsAgent } from 'node:https';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { reuseConnections } from './connection-reuse.js';

function kubeConfig(cert: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('ca').toString('base64') }],
    users: [
      {
        name: 'u',
        certData: Buffer.from(cert).toString('base64'),
        keyData: Buffer.from('key').toString('base64'),
      },
    ],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function agentOf(kc: KubeConfig): Promise<HttpsAgent> {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context.getAgent() as HttpsAgent;
}

test('without it every call gets an agent of its own (the client library as it is)', async (t) => {
  const kc = kubeConfig('cert');
  t.not(await agentOf(kc), await agentOf(kc));
});

test('calls share one keep-alive agent with the kubeconfig TLS material', async (t) => {
  const kc = reuseConnections(kubeConfig('cert'));
  const first = await agentOf(kc);
  t.is(await agentOf(kc), first);
  const options = (first as HttpsAgent & { options: { keepAlive?: boolean; cert?: unknown } }).options;
  t.true(options.keepAlive);
  t.is(String(options.cert), 'cert');
});

test('a changed client certificate gets a new agent', async (t) => {
  const kc = reuseConnections(kubeConfig('cert-1'));
  const first = await agentOf(kc);
  const user = kc.getCurrentUser();
  if (!user) throw new Error('no user');
  (user as { certData?: string }).certData = Buffer.from('cert-2').toString('base64');
  const second = await agentOf(kc);
  t.not(second, first);
  t.is(String((second as HttpsAgent & { options: { cert?: unknown } }).options.cert), 'cert-2');
});
