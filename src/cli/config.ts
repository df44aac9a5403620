// vic-kubelet's configuration: parsed once from flags, an optional JSON config file and the
// environment, validated by one schema, and handed on as a typed object.
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { z } from 'zod';
import { VicError } from '../shared/errors.js';
import { checkAllowedSysctls } from '../provider/pods/security-context.js';

const resourceList = z
  .object({ cpu: z.string(), memory: z.string(), pods: z.string(), 'ephemeral-storage': z.string() })
  .partial()
  .strict();

const taint = z.object({
  key: z.string().min(1),
  value: z.string(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

/** How long a leader acts without a successful renewal: a margin before anyone may take over. */
export function renewDeadlineSeconds(leaseDurationSeconds: number): number {
  return leaseDurationSeconds - Math.max(2, leaseDurationSeconds / 5);
}

const leaderElectionSchema = z
  .object({
    enabled: z.boolean(),
    /** The namespace of the Lease vic-kubelet-<node> (default: the pod's own, else default). */
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name'),
    /** This replica's holderIdentity (default <hostname>_<pid>). */
    identity: z.string().min(1).optional(),
    leaseDurationSeconds: z.number().int().min(3),
    renewIntervalSeconds: z.number().positive(),
  })
  .strict()
  .superRefine((le, ctx) => {
    // Two renewal attempts fit before the deadline, so one lost request does not end leadership.
    if (le.renewIntervalSeconds * 2 > renewDeadlineSeconds(le.leaseDurationSeconds)) {
      ctx.addIssue({
        code: 'custom',
        path: ['renewIntervalSeconds'],
        message: `must be at most half the renew deadline (${renewDeadlineSeconds(le.leaseDurationSeconds)} s for a ${le.leaseDurationSeconds} s lease)`,
      });
    }
  });

export const configSchema = z
  .object({
    nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lower-case DNS name'),
    kubeconfig: z.string().optional(),
    vch: z
      .object({
        endpoint: z.string().min(1),
        tls: z
          .object({
            ca: z.string().optional(),
            cert: z.string().optional(),
            key: z.string().optional(),
            insecureSkipVerify: z.boolean().optional(),
          })
          .strict()
          .optional(),
        sandboxImage: z.string().min(1),
        /** The pod layout: detected from the VCH (auto), or set by the operator. */
        layout: z.enum(['auto', 'shared', 'vm-per-pod']).optional(),
        /** Abilities the operator says the VCH has or lacks, over what detection found. */
        abilities: z
          .object({
            sharedNamespaces: z.boolean(),
            exec: z.boolean(),
            resize: z.boolean(),
            stats: z.boolean(),
            events: z.boolean(),
            namedVolumes: z.boolean(),
            archives: z.boolean(),
          })
          .partial()
          .strict()
          .optional(),
      })
      .strict(),
    kubelet: z
      .object({
        address: z.string(),
        port: z.number().int().min(1).max(65535),
        nodeIP: z.string().min(1),
        version: z
          .string()
          .regex(/^v\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'must be a semantic version like v1.37.2'),
        tlsCertFile: z.string().optional(),
        tlsKeyFile: z.string().optional(),
        /** Ask the cluster for a serving certificate (kubernetes.io/kubelet-serving) instead of self-signing. */
        tlsBootstrap: z.boolean(),
        clientCaFile: z.string().optional(),
        /** Unsafe sysctls pods may set (names, or prefixes ending in `*`); each must be namespaced. */
        allowedUnsafeSysctls: z
          .array(z.string())
          .refine((list) => checkAllowedSysctls(list).length === 0, {
            message:
              'only namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*) can be allowed',
          })
          .optional(),
      })
      .strict(),
    labels: z.record(z.string(), z.string()),
    taint: taint.nullable(),
    capacity: resourceList,
    reserved: resourceList,
    maxPods: z.number().int().positive(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    /** text: one readable line per event; json: pino's JSON lines; auto: text on a terminal only. */
    logFormat: z.enum(['auto', 'json', 'text']),
    // issue 10: the API server as pod VMs reach it (KUBERNETES_SERVICE_HOST/PORT), and cluster DNS.
    kubernetesServiceAddress: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^:[\]]+):\d{1,5}$/, 'must be host:port')
      .optional(),
    clusterDns: z.array(z.string().min(1)).optional(),
    clusterDomain: z.string().min(1).optional(),
    /** issue 17: replicas of one node elect a leader on a Lease; only the leader acts. */
    leaderElection: leaderElectionSchema,
    /** A plain-HTTP /healthz for probes (the kubelet's 10248); port 0: none. */
    healthz: z.object({ address: z.string().min(1), port: z.number().int().min(0).max(65535) }).strict(),
    // issue 16: the VCH volume stores whose StorageClasses this node's provisioner serves.
    volumeStores: z
      .array(z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/, 'must be a volume store name'))
      .min(1),
    // issue 11: where network probes run from (a remote VCH's pod network may not be reachable here).
    probeNetwork: z.enum(['auto', 'direct', 'in-pod']).optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export const defaultTaint = {
  key: 'virtual-kubelet.io/provider',
  value: 'vic',
  effect: 'NoSchedule',
} as const;
export const kubeletVersion = 'v1.37.2';
/** The sandbox of every pod VM: the kubelet's own pause image, unless the VCH offers another. */
export const defaultSandboxImage = 'registry.k8s.io/pause:3.10';

/** The first non-internal IPv4 address of this machine, else loopback. */
export function defaultNodeIP(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function defaults(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    nodeName: (env.VK_NODE_NAME ?? `vic-${hostname()}`).toLowerCase(),
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    vch: {
      endpoint: env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
      sandboxImage: defaultSandboxImage,
    },
    kubelet: {
      address: '0.0.0.0',
      port: 10250,
      nodeIP: defaultNodeIP(),
      version: kubeletVersion,
      tlsBootstrap: false,
    },
    labels: {},
    taint: { ...defaultTaint },
    capacity: {},
    reserved: {},
    maxPods: 110,
    // Validated with the rest: an unknown level in $LOG_LEVEL is a configuration error, not a crash.
    logLevel: (env.LOG_LEVEL ?? 'info') as Config['logLevel'],
    logFormat: 'auto',
    leaderElection: {
      enabled: false,
      namespace: podNamespace() ?? 'default',
      leaseDurationSeconds: 10,
      renewIntervalSeconds: 2,
    },
    healthz: { address: '127.0.0.1', port: 0 },
    volumeStores: ['default'],
  };
}

/** The namespace this process runs in, when it runs in a pod with a service account. */
function podNamespace(): string | undefined {
  try {
    return (
      readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** A duration as kube flags write it (10s, 500ms, 1m) or a plain number of seconds. */
export function parseDurationSeconds(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new VicError('Invalid', `${flag}: "${text}" is not a duration like 10s, 500ms or 1m`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
}

/** Reads and validates a JSON config file: the same shape as Config, every field optional. */
export function readConfigFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new VicError(
      'Invalid',
      `cannot read config file ${path}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects, later layers winning; arrays and scalars replace. */
export function merge(...layers: unknown[]): unknown {
  return layers.reduce((acc: unknown, layer) => {
    if (!isObject(acc) || !isObject(layer)) return layer === undefined ? acc : layer;
    const out: Record<string, unknown> = { ...acc };
    for (const [k, v] of Object.entries(layer)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  });
}

/**
 * Validates a merged configuration. Each problem names the field by its path in the config file and,
 * when `flagOf` knows one, the flag that sets it ("kubelet.port (--port): ...").
 */
export function validateConfig(
  candidate: unknown,
  flagOf: (path: string) => string | undefined = () => undefined,
): Config {
  const result = configSchema.safeParse(candidate);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => {
        const path = i.path.join('.');
        const flag = flagOf(path);
        return `${path || '(root)'}${flag ? ` (${flag})` : ''}: ${i.message}`;
      })
      .join('; ');
    throw new VicError('Invalid', `invalid configuration: ${problems}`);
  }
  return result.data;
}

/** key=value[,key=value] as used by --node-labels, --capacity and --reserved. */
export function parsePairs(text: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new VicError('Invalid', `${flag}: "${part}" is not key=value`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** key=value:Effect, as kubectl taint writes it. */
export function parseTaint(text: string): z.infer<typeof taint> {
  const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(text);
  if (!match)
    throw new VicError(
      'Invalid',
      `--taint: "${text}" is not key=value:Effect (Effect NoSchedule, PreferNoSchedule or NoExecute)`,
    );
  return { key: match[1] ?? '', value: match[2] ?? '', effect: match[3] as 'NoSchedule' };
}
