// What the kubelet API serves, over TLS with the API server's client certificate: follow streams that
// flow while open and stop the provider's stream when the client leaves, the stats summary and the
// resource metrics metrics-server reads.
import test from 'ava';
import { StreamReader, fetchText, open, type Target } from '../../../src/api/testing/http-client.js';
import { parseExposition } from '../../../src/api/testing/prometheus-text.js';
import { sampleTime } from '../../../src/api/testing/usage.js';
import { uniqueName } from '../../support/env.js';
import { kubeletClientTls, startServer, type StartedServer } from './_helpers.js';

const nodeName = uniqueName('vk-api-serve');
let started: StartedServer;

test.before(async () => {
  started = await startServer(nodeName);
});

test.after.always(async () => {
  await started?.server.close();
});

const target = (): Target => ({ port: started.port, https: true, tls: kubeletClientTls() });

test('a follow stream delivers chunks while open and ends the provider stream on disconnect', async (t) => {
  const res = await open(target(), 'GET', '/containerLogs/default/web/main?follow=true&timestamps=true');
  t.is(res.statusCode, 200);
  t.is(res.headers['transfer-encoding'], 'chunked');
  const reader = new StreamReader(res);
  const follow = started.provider.follows.at(-1);
  if (!follow) return t.fail('the provider was not asked for a follow stream');
  t.like(follow.options, { follow: true, timestamps: true });
  follow.stream.write('2024-05-01T12:00:00.000000000Z one\n');
  await reader.until(' one\n');
  follow.stream.write('2024-05-01T12:00:01.000000000Z two\n');
  await reader.until(' two\n');
  t.false(reader.ended);
  res.destroy();
  await new Promise<void>((resolve) =>
    follow.stream.destroyed ? resolve() : follow.stream.once('close', resolve),
  );
  t.true(follow.stream.destroyed);
  t.true(follow.signal.aborted);
});

test('stats summary', async (t) => {
  const reply = await fetchText(target(), 'GET', '/stats/summary');
  t.is(reply.status, 200);
  const summary = JSON.parse(reply.body) as {
    node: { nodeName: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } };
    pods: Array<{
      podRef: { name: string; namespace: string; uid: string };
      containers: Array<{ name: string }>;
    }>;
  };
  t.is(summary.node.nodeName, nodeName);
  t.is(summary.node.cpu.usageCoreNanoSeconds, 90e9);
  t.is(summary.node.memory.workingSetBytes, 512 * 2 ** 20);
  t.deepEqual(summary.pods[0]?.podRef, { name: 'web', namespace: 'default', uid: 'uid-web' });
  t.deepEqual(
    summary.pods[0]?.containers.map((c) => c.name),
    ['nginx', 'sidecar'],
  );
});

test('resource metrics', async (t) => {
  const reply = await fetchText(target(), 'GET', '/metrics/resource');
  t.is(reply.status, 200);
  const parsed = parseExposition(reply.body);
  const names = new Set(parsed.samples.map((s) => s.name));
  for (const name of [
    'node_cpu_usage_seconds_total',
    'node_memory_working_set_bytes',
    'container_cpu_usage_seconds_total',
    'container_memory_working_set_bytes',
    'container_start_time_seconds',
    'pod_cpu_usage_seconds_total',
    'pod_memory_working_set_bytes',
    'resource_scrape_error',
  ]) {
    t.true(names.has(name), name);
  }
  const cpu = parsed.samples.find(
    (s) => s.name === 'container_cpu_usage_seconds_total' && s.labels.container === 'nginx',
  );
  t.deepEqual(cpu, {
    name: 'container_cpu_usage_seconds_total',
    labels: { container: 'nginx', pod: 'web', namespace: 'default' },
    value: 2,
    timestamp: sampleTime.getTime(),
  });
  t.false(parsed.samples.some((s) => s.name !== 'resource_scrape_error' && s.value === 0));
});
