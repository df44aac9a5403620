import test from 'ava';
import { parseArgs } from './flags.js';

const argv = (...args: string[]) => ['node', 'vic-kubelet', '--node-name', 'vic-a', ...args];

test('--allowed-unsafe-sysctls takes names and prefixes; none by default', (t) => {
  t.is(parseArgs(argv()).kubelet.allowedUnsafeSysctls, undefined);
  const config = parseArgs(argv('--allowed-unsafe-sysctls', 'net.core.somaxconn, kernel.msg*'));
  t.deepEqual(config.kubelet.allowedUnsafeSysctls, ['net.core.somaxconn', 'kernel.msg*']);
});

test('--allowed-unsafe-sysctls refuses a sysctl that is not namespaced, as the kubelet does', (t) => {
  t.throws(() => parseArgs(argv('--allowed-unsafe-sysctls', 'kernel.panic')), {
    message: /only namespaced sysctls/,
  });
});
