// The prober's thresholds, initial delay, startup gating and events, against a fake clock and a
// scripted probe handler.
import test from 'ava';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { FakeClock } from '../../../shared/fake-clock.js';
import { silentLogger } from '../../../shared/logger.js';
import type { PodVmStatus } from '../../../vch/types.js';
import { Prober } from './prober.js';
import type { ProbeOutcome, runProbe } from './runners.js';

function setup(container: Partial<V1Container>, script: Record<string, () => ProbeOutcome['result']>) {
  const clock = new FakeClock(1_000_000);
  const events: string[] = [];
  const changes: string[] = [];
  const calls: string[] = [];
  const run: typeof runProbe = (handler) => {
    const path = handler.kind === 'httpGet' ? handler.path : handler.kind;
    calls.push(path);
    const result = script[path]?.() ?? 'success';
    return Promise.resolve({
      result,
      output: result === 'failure' ? 'HTTP probe failed with statuscode: 500' : '',
    });
  };
  const prober = new Prober({
    exec: () => Promise.resolve({ exitCode: 0 }),
    clock,
    recorder: { record: (_p, { type, reason, message }) => events.push(`${type} ${reason}: ${message}`) },
    logger: silentLogger,
    onChange: (key) => changes.push(key),
    run,
  });
  const pod: V1Pod = {
    metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
    spec: { containers: [{ name: 'main', image: 'i', ...container }] },
  };
  const vm: PodVmStatus = {
    pod: { namespace: 'ns', name: 'web', uid: 'u1' },
    nodeName: 'n',
    podIP: '10.0.0.2',
    initContainers: [],
    containers: [
      {
        name: 'main',
        role: 'app',
        attempt: 0,
        id: 'c1',
        image: 'i',
        imageId: 'sha256:x',
        state: { kind: 'running', startedAt: new Date(clock.now()) },
        restartCount: 0,
      },
    ],
  };
  prober.update(pod, vm);
  /** Lets the clock run, a second at a time, so each probe's promise settles before the next tick. */
  const run_ = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
  };
  return { clock, prober, events, changes, calls, advance: run_ };
}

const http = (path: string, extra: object = {}) => ({
  httpGet: { path, port: 8080 },
  periodSeconds: 1,
  ...extra,
});

test('readiness: not ready until the first success, unready after failureThreshold failures in a row', async (t) => {
  let healthy = true;
  const s = setup(
    { readinessProbe: http('/ready', { initialDelaySeconds: 3, failureThreshold: 2 }) },
    {
      '/ready': () => (healthy ? 'success' : 'failure'),
    },
  );
  t.is(s.prober.health('c1')?.ready, false, 'not ready before any probe');
  await s.advance(2);
  t.deepEqual(s.calls, [], 'nothing before initialDelaySeconds');
  await s.advance(1);
  t.is(s.prober.health('c1')?.ready, true);
  t.deepEqual(s.changes, ['ns/web']);
  healthy = false;
  await s.advance(1);
  t.is(s.prober.health('c1')?.ready, true, 'one failure is under the threshold');
  await s.advance(1);
  t.is(s.prober.health('c1')?.ready, false);
  t.true(
    s.events.includes('Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500'),
  );
});

test('liveness: failureThreshold failures mark the container failed, with the probe grace, and hold the worker', async (t) => {
  const s = setup(
    { livenessProbe: http('/live', { failureThreshold: 3, terminationGracePeriodSeconds: 4 }) },
    {
      '/live': () => 'failure',
    },
  );
  await s.advance(2);
  t.is(s.prober.health('c1')?.failed, undefined);
  await s.advance(1);
  t.deepEqual(s.prober.health('c1')?.failed, {
    probe: 'liveness',
    message: 'HTTP probe failed with statuscode: 500',
    graceSeconds: 4,
  });
  const probes = s.calls.length;
  await s.advance(5);
  t.is(s.calls.length, probes, 'on hold until the container is replaced');
});

test('startup: liveness and readiness wait until the startup probe passed', async (t) => {
  let up = false;
  const s = setup(
    {
      startupProbe: http('/started', { failureThreshold: 30 }),
      livenessProbe: http('/live'),
      readinessProbe: http('/ready'),
    },
    { '/started': () => (up ? 'success' : 'failure') },
  );
  await s.advance(3);
  t.deepEqual([...new Set(s.calls)], ['/started']);
  t.is(s.prober.health('c1')?.started, false);
  up = true;
  await s.advance(1);
  t.is(s.prober.health('c1')?.started, true);
  await s.advance(2);
  t.true(s.calls.includes('/live') && s.calls.includes('/ready'));
  const startups = s.calls.filter((c) => c === '/started').length;
  await s.advance(2);
  t.is(s.calls.filter((c) => c === '/started').length, startups, 'a passed startup probe stops');
});

test('probe metrics carry the kubelet names and labels; a pod that goes takes its series along', async (t) => {
  const s = setup({ readinessProbe: http('/ready') }, {});
  await s.advance(2);
  const { text } = await s.prober.metrics.exposition();
  t.regex(
    text,
    /prober_probe_total\{probe_type="Readiness",result="successful",container="main",pod="web",namespace="ns",pod_uid="u1"\} 2/,
  );
  s.prober.forget('u1');
  t.is(s.prober.workers, 0);
  t.notRegex((await s.prober.metrics.exposition()).text, /pod="web"/);
});
