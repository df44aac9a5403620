// The command-line clients a user would time: kubectl of the control plane's version (WebSocket for
// exec), kubectl 1.27 (SPDY all the way), and the docker CLI on the same engine.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { testEnv } from '../../test/support/env.js';

export interface Client {
  label: string;
  command: string;
  /** Arguments that come before the subcommand (kubeconfig, host). */
  prefix: string[];
}

export function kubectlClient(version?: '1.27'): Client {
  const command = version
    ? join(process.env.VK_KUBECTL_VERSIONS_DIR ?? '/usr/lib/google-cloud-sdk/bin', `kubectl.${version}`)
    : join(testEnv.binDir, 'kubectl');
  return {
    label: version ? `kubectl ${version} (SPDY)` : 'kubectl 1.37 (WebSocket)',
    command,
    prefix: ['--kubeconfig', testEnv.kubeconfig],
  };
}

/** The docker CLI, or undefined when it is not installed. */
export function dockerClient(): Client | undefined {
  try {
    const command = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
    if (!command) return undefined;
    return { label: 'docker CLI', command, prefix: ['-H', testEnv.dockerHost] };
  } catch {
    return undefined;
  }
}
