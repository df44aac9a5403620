// Assembles one vic-kubelet: the VCH client, the node controller, the pod controller, and the
// kubelet API server, from a validated Config. Stopping it leaves the Node and every pod VM in
// place: a restart of vic-kubelet is not an outage.
import { readFileSync } from 'node:fs';
import { CoordinationV1Api, CoreV1Api, KubeConfig, StorageV1Api, VersionApi } from '@kubernetes/client-node';
import { createKubeletServer, type KubeletServer } from '../api/server.js';
import { KubeletMetrics } from '../api/own-metrics.js';
import { streamingTransports } from '../api/streaming-transports.js';
import type { ServingTlsOptions } from '../api/tls.js';
import type { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { reuseConnections } from '../provider/kube/connection-reuse.js';
import { KubeletEventRecorder } from '../provider/kube/event-recorder.js';
import { NodeController, type NodeHostSource } from '../provider/node/node-controller.js';
import type { HostFacts, NodeConfig } from '../provider/node/types.js';
import { PodController } from '../provider/pods/pod-controller.js';
import type { PodConfig } from '../provider/pods/pod-sync.js';
import { VicProvider } from '../provider/vic-provider.js';
import { fenceModem, type Fence } from '../provider/leader/fence.js';
import { startStorage } from '../provider/storage/start.js';
import { createVch, profileSummary, type Vch } from '../vch/index.js';
import type { Config } from './config.js';

export interface Daemon {
  /** Resolves once the Node is registered with its first status. */
  ready: Promise<void>;
  provider: VicProvider;
  server: KubeletServer;
  stop(): Promise<void>;
}

/** Certificate files when given; a CSR to the cluster when asked; else a self-signed certificate. */
function servingTls(config: Config, kc: KubeConfig): ServingTlsOptions {
  const names = { ipAddresses: [config.kubelet.nodeIP], dnsNames: [config.nodeName] };
  const { tlsCertFile, tlsKeyFile } = config.kubelet;
  if (tlsCertFile && tlsKeyFile)
    return { source: 'files', certFile: tlsCertFile, keyFile: tlsKeyFile, ...names };
  if (config.kubelet.tlsBootstrap) return { source: 'csr', kubeConfig: kc, ...names };
  return { source: 'self-signed', ...names };
}

export function loadKubeConfig(path: string | undefined, kc: KubeConfig = new KubeConfig()): KubeConfig {
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return reuseConnections(kc);
}

function hostSource(vch: Vch): NodeHostSource {
  return {
    async hostFacts() {
      const f = await vch.host.facts();
      return {
        cpus: f.cpus,
        memoryBytes: f.memoryBytes,
        ...(f.storageBytes !== undefined ? { storageBytes: f.storageBytes } : {}),
        ...(f.storageAvailableBytes !== undefined ? { storageAvailableBytes: f.storageAvailableBytes } : {}),
        operatingSystem: f.operatingSystem,
        osType: f.osType,
        kernelVersion: f.kernelVersion,
        architecture: f.architecture,
        engineName: 'docker',
        engineVersion: f.engineVersion,
        machineId: f.machineId,
        systemUuid: f.systemUuid,
        bootId: f.bootId,
        ...vchFacts(vch),
      };
    },
    async checkHealth() {
      const h = await vch.host.health(3000);
      return h.reachable ? { reachable: true } : { reachable: false, reason: h.message ?? 'no answer' };
    },
  };
}

/** What the VCH is and can do, for the Node's labels and annotation (known before the first facts). */
function vchFacts(vch: Vch): Pick<HostFacts, 'vch'> {
  const profile = vch.knowledge.current();
  if (!profile) return {};
  return {
    vch: { product: profile.identity.product, layout: profile.layout, abilities: profileSummary(profile) },
  };
}

export function nodeConfig(config: Config): NodeConfig {
  return {
    nodeName: config.nodeName,
    labels: config.labels,
    taint: config.taint,
    internalIP: config.kubelet.nodeIP,
    kubeletPort: config.kubelet.port,
    kubeletVersion: config.kubelet.version,
    capacityOverrides: config.capacity,
    reserved: config.reserved,
    defaultMaxPods: config.maxPods,
  };
}

/** What pods are told about the cluster (issue 10). */
function podConfig(config: Config): PodConfig {
  const address = config.kubernetesServiceAddress;
  const split = address ? /^\[?(.*?)\]?:(\d+)$/.exec(address) : undefined;
  return {
    ...(split ? { kubernetesServiceAddress: { host: split[1] ?? '', port: Number(split[2]) } } : {}),
    ...(config.clusterDns ? { clusterDns: config.clusterDns } : {}),
    ...(config.clusterDomain ? { clusterDomain: config.clusterDomain } : {}),
    probeNetwork: config.probeNetwork ?? 'auto',
  };
}

/** What a leader-elected replica hands in (src/cli/leadership.ts): every request passes its fence. */
export interface DaemonFencing {
  kubeConfig: KubeConfig;
  fence: Fence;
}

export function startDaemon(config: Config, logger: Logger, fencing?: DaemonFencing): Daemon {
  const kc = fencing?.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const tls = config.vch.tls;
  const read = (path: string | undefined) => (path ? { contents: readFileSync(path) } : undefined);
  const [ca, cert, key] = [read(tls?.ca), read(tls?.cert), read(tls?.key)];
  const vch = createVch({
    endpoint: config.vch.endpoint,
    nodeName: config.nodeName,
    sandboxImage: config.vch.sandboxImage,
    ...(config.vch.layout || config.vch.abilities
      ? { profile: { layout: config.vch.layout ?? 'auto', abilities: config.vch.abilities ?? {} } }
      : {}),
    logger,
    ...(ca || cert || tls?.insecureSkipVerify
      ? {
          tls: {
            ...(ca ? { ca: ca.contents } : {}),
            ...(cert ? { cert: cert.contents } : {}),
            ...(key ? { key: key.contents } : {}),
            ...(tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
          },
        }
      : {}),
  });
  if (fencing) fenceModem(vch.client.docker.modem, fencing.fence);
  const abort = new AbortController();
  const metrics = new KubeletMetrics({ processMetrics: true });
  const node = new NodeController({
    core,
    coordination,
    host: hostSource(vch),
    version: kc.makeApiClient(VersionApi),
    config: nodeConfig(config),
    logger,
  });
  const recorder = new KubeletEventRecorder({ api: core, nodeName: config.nodeName, logger });
  // issue 16: the node's StorageClass provisioner, and its claims as pods mount them.
  const storage = startStorage({
    kubeConfig: kc,
    core,
    storage: kc.makeApiClient(StorageV1Api),
    vch,
    nodeName: config.nodeName,
    stores: config.volumeStores,
    logger,
  });
  const pods = new PodController({
    kubeConfig: kc,
    core,
    vch,
    nodeName: config.nodeName,
    hostIP: config.kubelet.nodeIP,
    allocatable: () => node.allocatable() ?? { milliCpu: 0, memoryBytes: 0, pods: 0 },
    layoutLimits: () => vch.knowledge.current()?.limits,
    ...(config.kubelet.allowedUnsafeSysctls
      ? { allowedUnsafeSysctls: config.kubelet.allowedUnsafeSysctls }
      : {}),
    recorder,
    logger,
    podConfig: podConfig(config),
    claims: storage.claims,
    observer: {
      synced(durationMs, error) {
        metrics.observePodSync(durationMs / 1000, error ? 'error' : 'success');
        if (error) metrics.countError(error as ErrorCode, 'pods');
        metrics.setRunningPods(pods.pods().filter((p) => p.status?.phase === 'Running').length);
      },
    },
  });
  const provider = new VicProvider({ vch, pods, nodeName: config.nodeName, startTime: new Date() });

  const server = createKubeletServer({
    provider,
    nodeName: config.nodeName,
    port: config.kubelet.port,
    address: config.kubelet.address,
    tls: servingTls(config, kc),
    auth: {
      kubeConfig: kc,
      ...(config.kubelet.clientCaFile ? { clientCaFile: config.kubelet.clientCaFile } : {}),
    },
    streaming: streamingTransports(provider, logger),
    logger,
    metrics,
  });
  const listening = server.listen().then(() => undefined);

  const running = [
    listening,
    node.run(abort.signal),
    // Pods wait for the node: admission needs its allocatable.
    node.ready().then(() => pods.run(abort.signal)),
    storage.provisioner.run(abort.signal),
  ].map((p) => p.catch((err: unknown) => logger.error({ err }, 'controller stopped with an error')));

  return {
    ready: Promise.all([node.ready(), listening]).then(() => undefined),
    provider,
    server,
    async stop() {
      abort.abort();
      pods.stop();
      await Promise.all([...running, server.close()]);
      vch.close();
    },
  };
}
