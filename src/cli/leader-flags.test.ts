// The leader election flags: off by default, durations as kube flags write them, and a renew
// interval that leaves no room for a second try refused with the flag named.
import test from 'ava';
import { parseArgs } from './flags.js';

const argv = (...args: string[]) => ['node', 'vic-kubelet', '--node-name', 'vic-a', ...args];

test('leader election is off by default, with a 10 s lease renewed every 2 s', (t) => {
  const le = parseArgs(argv(), {}).leaderElection;
  t.false(le.enabled);
  t.is(le.leaseDurationSeconds, 10);
  t.is(le.renewIntervalSeconds, 2);
  t.is(le.identity, undefined);
});

test('--leader-elect and its settings', (t) => {
  const le = parseArgs(
    argv(
      '--leader-elect',
      '--leader-elect-lease-duration=20s',
      '--leader-elect-renew-interval',
      '1500ms',
      '--leader-elect-namespace=vic-system',
      '--leader-elect-identity=replica-a',
    ),
    {},
  ).leaderElection;
  t.deepEqual(le, {
    enabled: true,
    namespace: 'vic-system',
    identity: 'replica-a',
    leaseDurationSeconds: 20,
    renewIntervalSeconds: 1.5,
  });
});

test('VK_LEADER_ELECT turns it on and off', (t) => {
  // commander reads VK_* variables from process.env itself.
  const enabled = (value: string) => {
    process.env.VK_LEADER_ELECT = value;
    try {
      return parseArgs(argv(), {}).leaderElection.enabled;
    } finally {
      delete process.env.VK_LEADER_ELECT;
    }
  };
  t.true(enabled('true'));
  t.false(enabled('false'));
});

test('a renew interval too long for the lease is refused with its flag named', (t) => {
  const err = t.throws(() =>
    parseArgs(argv('--leader-elect-lease-duration=10s', '--leader-elect-renew-interval=5s'), {}),
  );
  t.regex(
    err?.message ?? '',
    /leaderElection\.renewIntervalSeconds \(--leader-elect-renew-interval\): must be at most half the renew deadline \(8 s for a 10 s lease\)/,
  );
});

test('a duration that is not one is refused', (t) => {
  const err = t.throws(() => parseArgs(argv('--leader-elect-lease-duration=ten'), {}));
  t.is(err?.message, '--leader-elect-lease-duration: "ten" is not a duration like 10s, 500ms or 1m');
});

test('--healthz-port and --healthz-address; off by default', (t) => {
  t.deepEqual(parseArgs(argv(), {}).healthz, { address: '127.0.0.1', port: 0 });
  t.deepEqual(parseArgs(argv('--healthz-port=10248', '--healthz-address=0.0.0.0'), {}).healthz, {
    address: '0.0.0.0',
    port: 10248,
  });
});
