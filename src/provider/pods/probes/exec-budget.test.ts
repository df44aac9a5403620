// The exec budget alone, and the prober saturated against a slow engine on a fake clock: probes run
// late, never pile up, and the node's own work (Lease renewal, pod status reads) keeps its share.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { FakeClock } from '../../../shared/fake-clock.js';
import { silentLogger } from '../../../shared/logger.js';
import type { PodVmStatus } from '../../../vch/types.js';
import { ExecBudget } from './exec-budget.js';
import { Prober } from './prober.js';
import type { ExecInContainer } from './runners.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

test('the budget runs at most its limit at once, hands each freed slot to the longest waiter', async (t) => {
  const budget = new ExecBudget(2);
  const release: Array<() => void> = [];
  const order: number[] = [];
  const runs = [1, 2, 3, 4].map((i) =>
    budget.run(
      () => new Promise<number>((resolve) => release.push(() => resolve(i))),
      () => order.push(i),
    ),
  );
  await settle();
  t.deepEqual(order, [1, 2]);
  t.is(budget.inFlight, 2);
  t.is(budget.waiting, 2);
  release[1]!();
  await settle();
  t.deepEqual(order, [1, 2, 3], 'the first waiter gets the slot');
  // A newcomer queues behind the one still waiting.
  const late = budget.run(
    () => Promise.resolve(5),
    () => order.push(5),
  );
  release[0]!();
  await settle();
  t.deepEqual(order, [1, 2, 3, 4]);
  release[2]!();
  release[3]!();
  t.deepEqual(await Promise.all([...runs, late]), [1, 2, 3, 4, 5]);
  t.is(budget.inFlight, 0);
  t.is(budget.waiting, 0);
  t.throws(() => new ExecBudget(0), { instanceOf: RangeError });
});

/**
 * An engine that can do `slots` things at once (each exec holds one for `execMs`), on the fake clock.
 * `acquire` resolves when a slot is free and says how long it waited.
 */
class SlowEngine {
  readonly #clock: FakeClock;
  #free: number;
  readonly #queue: Array<() => void> = [];
  maxBusy = 0;

  constructor(clock: FakeClock, slots: number) {
    this.#clock = clock;
    this.#free = slots;
  }

  async hold(ms: number): Promise<number> {
    const asked = this.#clock.now();
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    const waited = this.#clock.now() - asked;
    await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, ms));
    const next = this.#queue.shift();
    if (next) next();
    else this.#free += 1;
    return waited;
  }
}

function probedPods(n: number): Array<{ pod: V1Pod; vm: PodVmStatus }> {
  return Array.from({ length: n }, (_, i) => ({
    pod: {
      metadata: { name: `p${i}`, namespace: 'ns', uid: `u${i}` },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'busybox',
            livenessProbe: {
              exec: { command: ['true'] },
              periodSeconds: 1,
              timeoutSeconds: 10,
              failureThreshold: 3,
            },
          },
        ],
      },
    },
    vm: {
      pod: { namespace: 'ns', name: `p${i}`, uid: `u${i}` },
      nodeName: 'n',
      initContainers: [],
      containers: [
        {
          name: 'main',
          role: 'app',
          attempt: 0,
          id: `c${i}`,
          image: 'busybox',
          imageId: 'sha256:x',
          state: { kind: 'running', startedAt: new Date(0) },
          restartCount: 0,
        },
      ],
    },
  }));
}

/**
 * 200 pods with an exec probe every second against an engine that does 16 things at once and takes
 * 2 s per exec: the probes ask for 200 execs/s, the engine can give 8/s. Beside them, the node's
 * own loop renews the Lease every 10 s and reads a pod's status from the engine (50 ms of one slot).
 */
async function saturated(budgetSlots: number) {
  const clock = new FakeClock(0);
  const engine = new SlowEngine(clock, 16);
  let execsRunning = 0;
  let execsMax = 0;
  const exec: ExecInContainer = async () => {
    execsRunning += 1;
    execsMax = Math.max(execsMax, execsRunning);
    await engine.hold(2000);
    execsRunning -= 1;
    return { exitCode: 0 };
  };
  const prober = new Prober({
    exec,
    clock,
    recorder: { record: () => undefined },
    logger: silentLogger,
    onChange: () => undefined,
    maxConcurrentExec: budgetSlots,
  });
  for (const { pod, vm } of probedPods(200)) prober.update(pod, vm);
  const renewals: number[] = [];
  const statusWaits: number[] = [];
  let maxWaiting = 0;
  const leaseLoop = () => {
    renewals.push(clock.now());
    void engine.hold(50).then((waited) => statusWaits.push(waited));
    clock.setTimeout(leaseLoop, 10_000);
  };
  clock.setTimeout(leaseLoop, 10_000);
  for (let ms = 0; ms < 61_000; ms += 100) {
    clock.advance(100);
    await settle();
    maxWaiting = Math.max(maxWaiting, prober.execBudget.waiting);
  }
  const metrics = (await prober.metrics.exposition()).text;
  prober.stop();
  return { renewals, statusWaits, execsMax, maxWaiting, metrics };
}

test('saturated exec probes run late within their budget; the Lease renews and pod status reads get the engine on time', async (t) => {
  const run = await saturated(8);
  t.deepEqual(run.renewals, [10_000, 20_000, 30_000, 40_000, 50_000, 60_000], 'every renewal at its time');
  t.deepEqual(run.statusWaits, [0, 0, 0, 0, 0, 0], 'a status read never waits for the engine behind probes');
  t.is(run.execsMax, 8, 'never more execs at once than the budget');
  t.true(run.maxWaiting <= 200, `at most one waiting probe per worker, saw ${run.maxWaiting}`);
  t.true(run.maxWaiting > 150, `the probes did fall behind (${run.maxWaiting} waiting at most)`);
  // The probes ran late, and the prober's metrics say so: no probe of the last 50 s started on time.
  const onTime = /vic_prober_probe_delay_seconds_bucket\{le="1",probe_type="Liveness"\} (\d+)/.exec(
    run.metrics,
  );
  const all = /vic_prober_probe_delay_seconds_count\{probe_type="Liveness"\} (\d+)/.exec(run.metrics);
  t.truthy(onTime && all, run.metrics);
  t.true(
    Number(onTime![1]) < Number(all![1]) / 2,
    `most probes ran more than 1 s late: ${onTime![1]} of ${all![1]}`,
  );
  t.regex(run.metrics, /vic_prober_exec_probes\{state="running"\} 8/);
});

test('without the budget, the same probes take every engine slot and the status reads wait behind them', async (t) => {
  const run = await saturated(10_000);
  t.true(run.execsMax > 16, `execs pile up in the engine (${run.execsMax} at once)`);
  t.true(
    run.statusWaits.some((w) => w > 1000),
    `status reads waited ${run.statusWaits.join(', ')} ms for the engine`,
  );
});
