// What the node controller is configured with, and what it needs to know of the VCH.

export type ResourceName = 'cpu' | 'memory' | 'pods' | 'ephemeral-storage';
export type ResourceList = Partial<Record<ResourceName, string>>;

export interface NodeTaint {
  key: string;
  value: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeConfig {
  nodeName: string;
  /** Labels added to the defaults (type, role, os, arch, hostname). */
  labels: Record<string, string>;
  /** The taint that keeps ordinary pods away; null turns it off. */
  taint: NodeTaint | null;
  /** The address the API server dials for logs and exec. */
  internalIP: string;
  kubeletPort: number;
  kubeletVersion: string;
  /** Replace the capacity read from the VCH. */
  capacityOverrides: ResourceList;
  /** Held back from Allocatable (system reserve). */
  reserved: ResourceList;
  /** Pods a node admits when nothing overrides it (the kubelet's default is 110). */
  defaultMaxPods: number;
}

/** The VCH facts a Node is made of: plain data from src/vch. */
export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  /** Size of the VCH's storage for containers; undefined when the VCH does not tell. */
  storageBytes?: number;
  /** What is left of it; undefined when nothing measured it. */
  storageAvailableBytes?: number;
  operatingSystem: string;
  osType: string;
  kernelVersion: string;
  architecture: string;
  engineName: string;
  engineVersion: string;
  machineId: string;
  /** Empty when nothing reports it: an honest blank beats a copy of another ID. */
  systemUuid: string;
  bootId: string;
  /** What the VCH is and can do (src/vch/abilities.ts): labels and an annotation on the Node. */
  vch?: { product: string; layout: string; abilities: Record<string, unknown> };
}

/** How the VCH answered its last health check. */
export type VchHealth = { reachable: true } | { reachable: false; reason: string };
