// One keep-alive HTTPS agent for the API calls made through a KubeConfig. @kubernetes/client-node 1.x
// builds a new https.Agent in KubeConfig.applySecurityAuthentication for every call, so every call
// paid a TCP connect and a TLS handshake with a fresh SecureContext, and no connection was reused:
// the CPU profile of a 100-pod burst (bench, issue 15) put about a fifth of vic-kubelet's CPU in
// TLS set-up. The kubelet's client-go keeps its connections open (one HTTP/2 connection).
import { createHash } from 'node:crypto';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

type AuthContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

/** What makes two agents interchangeable: the TLS material and checks, not the per-call objects. */
function identityOf(options: AgentOptions): string {
  const parts = [options.ca, options.cert, options.key, options.pfx, options.passphrase, options.servername];
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${JSON.stringify(part ?? null)}\0`);
  hash.update(String(options.rejectUnauthorized ?? true));
  return hash.digest('hex');
}

/**
 * Makes every call through `kc` share one keep-alive agent, replaced when the credentials it was made
 * with change (a rotated client certificate). Proxy and plain-HTTP agents are left as they are.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const apply = kc.applySecurityAuthentication.bind(kc);
  let shared: { identity: string; agent: HttpsAgent } | undefined;
  kc.applySecurityAuthentication = async (context: AuthContext): Promise<void> => {
    await apply(context);
    const fresh = context.getAgent();
    if (!fresh || fresh.constructor !== HttpsAgent) return;
    const options = (fresh as HttpsAgent & { options: AgentOptions }).options;
    const identity = identityOf(options);
    // The agent it replaces is not destroyed: calls in flight finish on it, its idle sockets close.
    if (shared?.identity !== identity)
      shared = { identity, agent: new HttpsAgent({ ...options, keepAlive: true }) };
    context.setAgent(shared.agent);
  };
  return kc;
}
