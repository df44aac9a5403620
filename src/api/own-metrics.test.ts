import test from 'ava';
import { KubeletMetrics } from './own-metrics.js';
import { parseExposition } from './testing/prometheus-text.js';

test('pods running, sync latency, errors by code and requests are exposed', async (t) => {
  const metrics = new KubeletMetrics({ processMetrics: false });
  metrics.setRunningPods(3);
  metrics.observePodSync(0.2);
  metrics.observePodSync(3, 'error');
  metrics.countError('VchUnavailable', 'pods');
  metrics.countError('VchUnavailable', 'pods');
  metrics.countRequest('/pods', 'GET', 200);
  const { contentType, text } = await metrics.exposition();
  t.regex(contentType, /^text\/plain; version=0\.0\.4/);
  const parsed = parseExposition(text);
  const value = (name: string, labels: Record<string, string> = {}) =>
    parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value;
  t.is(value('vic_kubelet_running_pods'), 3);
  t.is(parsed.types.get('vic_kubelet_pod_sync_duration_seconds'), 'histogram');
  t.is(value('vic_kubelet_pod_sync_duration_seconds_count', { outcome: 'success' }), 1);
  t.is(value('vic_kubelet_pod_sync_duration_seconds_bucket', { outcome: 'error', le: '5' }), 1);
  t.is(value('vic_kubelet_pod_sync_duration_seconds_bucket', { outcome: 'error', le: '2.5' }), 0);
  t.is(value('vic_kubelet_errors_total', { code: 'VchUnavailable', component: 'pods' }), 2);
  t.is(value('vic_kubelet_api_requests_total', { route: '/pods', method: 'GET', code: '200' }), 1);
});

test('process metrics are included by default', async (t) => {
  const { text } = await new KubeletMetrics().exposition();
  t.true(parseExposition(text).types.has('vic_kubelet_process_cpu_seconds_total'));
});
