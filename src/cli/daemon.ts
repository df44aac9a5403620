// Assembles one vic-kubelet: the VCH client, the node controller, the pod controller, and the
// kubelet API server, from a validated Config. Stopping it leaves the Node and every pod VM in
// place: a restart of vic-kubelet is not an outage.
import { readFileSync } from 'node:fs';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../shared/logger.js';
import { KubeletEventRecorder } from '../provider/kube/event-recorder.js';
import { NodeController, type NodeHostSource } from '../provider/node/node-controller.js';
import type { NodeConfig } from '../provider/node/types.js';
import { PodController } from '../provider/pods/pod-controller.js';
import { VicProvider } from '../provider/vic-provider.js';
import { createVch, type Vch } from '../vch/index.js';
import type { Config } from './config.js';

export interface Daemon {
  /** Resolves once the Node is registered with its first status. */
  ready: Promise<void>;
  provider: VicProvider;
  stop(): Promise<void>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

function hostSource(vch: Vch): NodeHostSource {
  return {
    async hostFacts() {
      const f = await vch.host.facts();
      return {
        cpus: f.cpus,
        memoryBytes: f.memoryBytes,
        operatingSystem: f.operatingSystem,
        osType: f.osType,
        kernelVersion: f.kernelVersion,
        architecture: f.architecture,
        engineName: 'docker',
        engineVersion: f.engineVersion,
        machineId: f.machineId,
        systemUuid: f.machineId,
        bootId: f.machineId,
      };
    },
    async checkHealth() {
      const h = await vch.host.health(3000);
      return h.reachable ? { reachable: true } : { reachable: false, reason: h.message ?? 'no answer' };
    },
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

export function startDaemon(config: Config, logger: Logger): Daemon {
  const kc = loadKubeConfig(config.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const tls = config.vch.tls;
  const read = (path: string | undefined) => (path ? { contents: readFileSync(path) } : undefined);
  const [ca, cert, key] = [read(tls?.ca), read(tls?.cert), read(tls?.key)];
  const vch = createVch({
    endpoint: config.vch.endpoint,
    nodeName: config.nodeName,
    sandboxImage: config.vch.sandboxImage,
    logger,
    ...(ca || cert
      ? { tls: { ...(ca ? { ca: ca.contents } : {}), ...(cert ? { cert: cert.contents } : {}), ...(key ? { key: key.contents } : {}) } }
      : {}),
  });
  const abort = new AbortController();
  const node = new NodeController({ core, coordination, host: hostSource(vch), config: nodeConfig(config), logger });
  const recorder = new KubeletEventRecorder({ api: core, nodeName: config.nodeName, logger });
  const pods = new PodController({
    kubeConfig: kc,
    core,
    vch,
    nodeName: config.nodeName,
    hostIP: config.kubelet.nodeIP,
    allocatable: () => node.allocatable() ?? { milliCpu: 0, memoryBytes: 0, pods: 0 },
    recorder,
    logger,
  });
  const provider = new VicProvider({ vch, pods, nodeName: config.nodeName, startTime: new Date() });

  const running = [
    node.run(abort.signal),
    // Pods wait for the node: admission needs its allocatable.
    node.ready().then(() => pods.run(abort.signal)),
  ].map((p) => p.catch((err: unknown) => logger.error({ err }, 'controller stopped with an error')));

  return {
    ready: node.ready(),
    provider,
    async stop() {
      abort.abort();
      pods.stop();
      await Promise.all(running);
      vch.close();
    },
  };
}
