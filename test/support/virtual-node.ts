// One vic-kubelet and one namespace shared by the tests of a file: started before them, removed
// (node, lease, pod VMs, namespace) after them, whatever happened. The start is a serial hook, so a
// file's own test.serial.before, declared after it, finds the node ready.
import type { TestFn } from 'ava';
import { kubeConfig, testNamespace } from './env.js';
import { VicKubelet, type StartOptions } from './vic-kubelet.js';

export interface VirtualNode {
  readonly vk: VicKubelet;
  /** The file's namespace. */
  readonly ns: string;
}

export function virtualNodeForFile(
  test: TestFn,
  namespacePrefix: string,
  options: StartOptions = {},
): VirtualNode {
  let vk: VicKubelet | undefined;
  let namespace: Awaited<ReturnType<typeof testNamespace>> | undefined;
  test.serial.before(async () => {
    vk = await VicKubelet.start(options);
    namespace = await testNamespace(kubeConfig(), namespacePrefix);
    await vk.waitReady();
  });
  test.after.always(async () => {
    if (vk && process.env.VK_E2E_LOG_DIR) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${process.env.VK_E2E_LOG_DIR}/${vk.nodeName}.log`, vk.output());
    }
    await namespace?.cleanup();
    await vk?.cleanup();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the virtual node is used before test.before ran');
    return value;
  };
  return {
    get vk() {
      return started(vk);
    },
    get ns() {
      return started(namespace).name;
    },
  };
}
