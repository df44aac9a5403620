// Scenario 7: the start-up figure of scenario 1 through the VIC layout (vm-per-pod: one container VM
// per pod), with vic-kubelet on the VIC contract proxy (test/support/vic-proxy.ts) in front of the same
// engine; the floor is the same single container created and started straight on the engine.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { testEnv, uniqueName } from '../../test/support/env.js';
import { VIC_POOL_CAPACITY, VicProxy } from '../../test/support/vic-proxy.js';
import type { BenchContext } from '../lib/context.js';
import { onCleanup } from '../lib/cleanup.js';
import { measureStartup } from './startup.js';

export async function vicLayout(ctx: BenchContext): Promise<void> {
  const proxy = await VicProxy.start({
    upstream: testEnv.dockerHost.replace(/^unix:\/\//, ''),
    socket: `/var/tmp/${uniqueName('vk-bench-vic')}/docker.sock`,
  });
  const close = onCleanup('VIC proxy', async () => {
    await proxy.close();
    rmSync(dirname(proxy.socket), { recursive: true, force: true });
  });
  try {
    await measureStartup(ctx, {
      scenario: '7 VIC layout',
      label: 'vic',
      layout: 'vm-per-pod',
      pods: ctx.scale.layoutPods,
      vch: proxy.endpoint,
      // Each pod is a 2 vCPU / 2 GiB container VM on VIC: the VCH's pool, not this machine, bounds them.
      args: VIC_POOL_CAPACITY,
    });
    if (proxy.refused.length) {
      ctx.report.add('7 VIC layout', {
        figure: 'requests the VIC proxy refused',
        unit: 'requests',
        ours: proxy.refused.length,
        note: JSON.stringify(proxy.refused.slice(0, 3)),
      });
    }
  } finally {
    await close();
  }
}
