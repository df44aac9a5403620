// What an integration or end-to-end test needs of the running test environment (test/env/up.sh):
// clients for the real API server and Docker engine, kubectl runners, and per-test clean-up.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import Docker from 'dockerode';

const execFileAsync = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests through 'npm test', or 'source .cache/env/env.sh' first`,
    );
  }
  return value;
}

export const testEnv = {
  root,
  get kubeconfig(): string {
    return required('KUBECONFIG');
  },
  get dockerHost(): string {
    return process.env.DOCKER_HOST ?? 'unix:///var/tmp/vic-kubelet-docker/docker.sock';
  },
  get binDir(): string {
    return required('VK_BIN_DIR');
  },
  get pkiDir(): string {
    return required('VK_PKI_DIR');
  },
  get registry(): { host: string; user: string; password: string } {
    return {
      host: required('VK_REGISTRY'),
      user: required('VK_REGISTRY_USER'),
      password: required('VK_REGISTRY_PASSWORD'),
    };
  },
  busyboxImage: process.env.VK_BUSYBOX_IMAGE ?? 'vic-test/busybox:latest',
  pauseImage: process.env.VK_PAUSE_IMAGE ?? 'vic-test/pause:latest',
};

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(testEnv.kubeconfig);
  return kc;
}

export function docker(): Docker {
  const host = testEnv.dockerHost;
  if (!host.startsWith('unix://')) throw new Error(`tests expect a unix DOCKER_HOST, got ${host}`);
  return new Docker({ socketPath: host.slice('unix://'.length) });
}

/** A short random suffix that makes test object names unique. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs kubectl against the test control plane. `version` picks an installed kubectl.1.NN; the default
 * is the kubectl built with the control plane.
 */
export async function kubectl(
  args: string[],
  options: { version?: string; input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const binary = options.version
    ? join(
        process.env.VK_KUBECTL_VERSIONS_DIR ?? '/usr/lib/google-cloud-sdk/bin',
        `kubectl.${options.version}`,
      )
    : join(testEnv.binDir, 'kubectl');
  try {
    const child = execFileAsync(binary, ['--kubeconfig', testEnv.kubeconfig, ...args], {
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (options.input !== undefined) {
      child.child.stdin?.end(options.input);
    }
    const { stdout, stderr } = await child;
    return { stdout, stderr, exitCode: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number | string };
    if (typeof e.code === 'number')
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', exitCode: e.code };
    throw error;
  }
}

/**
 * Polls `probe` until it returns a value other than undefined, or fails with `what` after `timeoutMs`.
 * The failure says what was last seen: `lastSeen` when given (the state the probe looked at), and the
 * probe's last error.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; lastSeen?: () => unknown } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = options.lastSeen?.();
      const parts = [`timed out after ${timeoutMs} ms waiting for ${what}`];
      if (seen !== undefined) parts.push(`last seen: ${JSON.stringify(seen).slice(0, 4000)}`);
      if (lastError !== undefined) {
        const text =
          lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : JSON.stringify(lastError);
        parts.push(`last error: ${text}`);
      }
      throw new Error(parts.join('; '), { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}

/** A namespace for one test file, deleted (with everything in it) by the returned clean-up. */
export async function testNamespace(
  kc: k8s.KubeConfig,
  prefix: string,
): Promise<{ name: string; cleanup(): Promise<void> }> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  await eventually(`service account default in ${name}`, async () =>
    (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ? true : undefined,
  );
  return {
    name,
    async cleanup() {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}
