// A node configuration for unit tests: a virtual node as vic-kubelet's defaults make it.
import type { NodeConfig } from './types.js';

export const testNodeConfig: NodeConfig = {
  nodeName: 'vic-1',
  labels: { zone: 'a' },
  taint: { key: 'virtual-kubelet.io/provider', value: 'vic', effect: 'NoSchedule' },
  internalIP: '192.0.2.10',
  kubeletPort: 10250,
  kubeletVersion: 'v1.37.2',
  capacityOverrides: {},
  reserved: {},
  defaultMaxPods: 110,
};
