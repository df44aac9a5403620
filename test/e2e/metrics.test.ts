// `kubectl top pod` and `kubectl top node` for a virtual node, through the real metrics-server: it runs as
// a pod on the virtual node itself (test/env/metrics-server.sh), scrapes vic-kubelet's /metrics/resource
// at the node's InternalIP on the VCH bridge, and serves metrics.k8s.io through the aggregation layer.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { eventually, kubeConfig, kubectl, testEnv, testNamespace } from '../support/env.js';
import { createPod, podOn, podWhere, shell } from '../support/pods.js';
import { VicKubelet } from '../support/vic-kubelet.js';

const execFileAsync = promisify(execFile);
// The host side of the VCH bridge (test/env/lib.sh): a pod VM reaches the kubelet there.
const bridgeIp = '172.31.254.1';
const script = join(testEnv.root, 'test/env/metrics-server.sh');

let vk: VicKubelet | undefined;
let namespace: Awaited<ReturnType<typeof testNamespace>> | undefined;
let metricsServerUp = false;

async function metricsServer(...args: string[]): Promise<void> {
  // A cold build of metrics-server (when install.sh has not built it yet) takes minutes.
  await execFileAsync('bash', [script, ...args], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
}

/** `kubectl top` rows as name → columns, once every wanted row is there. */
async function topRows(args: string[], names: string[]): Promise<Map<string, string[]> | undefined> {
  const result = await kubectl(['top', ...args, '--no-headers']);
  if (result.exitCode !== 0) return undefined;
  const rows = new Map(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .map((cols) => [cols[0] ?? '', cols.slice(1)] as const),
  );
  return names.every((n) => rows.has(n)) ? rows : undefined;
}

const milliCores = (text: string | undefined): number => {
  const m = /^(\d+)m$/.exec(text ?? '');
  return m ? Number(m[1]) : Number.NaN;
};
const mebibytes = (text: string | undefined): number => {
  const m = /^(\d+)Mi$/.exec(text ?? '');
  return m ? Number(m[1]) : Number.NaN;
};

test.before(async (t) => {
  t.timeout(20 * 60_000);
  vk = await VicKubelet.start({ args: ['--node-ip', bridgeIp, '--address', '0.0.0.0'] });
  namespace = await testNamespace(kubeConfig(), 'vk-metrics');
  await vk.waitReady();
  const on = (cmd: string) => podOn(vk!.nodeName, { containers: [shell('main', cmd)] });
  // Each holds some memory in a shell variable, so that kubectl's whole mebibytes show it: a bare
  // busybox shell's working set is well under 1 MiB and reads 0Mi.
  const holding = (mib: number) => `x=$(head -c ${mib * 1024 * 1024} /dev/zero | tr '\\0' x)`;
  await createPod(namespace.name, 'busy', on(`${holding(8)}; while true; do :; done`));
  // Mostly asleep: wakes once a second, so its CPU is small but not exactly zero.
  await createPod(namespace.name, 'idle', on(`${holding(4)}; while true; do sleep 1; done`));
  for (const name of ['busy', 'idle']) {
    await podWhere(namespace.name, name, 'Running', (p) => p.status?.phase === 'Running');
  }
  metricsServerUp = true;
  await metricsServer('up', vk.nodeName);
});

test.after.always(async () => {
  try {
    if (metricsServerUp) await metricsServer('down');
  } finally {
    await namespace?.cleanup();
    await vk?.cleanup();
  }
});

/** On a failure: what vic-kubelet and metrics-server said last. */
async function diagnostics(): Promise<string> {
  const logs = await kubectl(['logs', '-n', 'kube-system', 'deploy/metrics-server', '--tail', '30']);
  return `vic-kubelet:\n${vk?.output().slice(-4000) ?? ''}\nmetrics-server:\n${logs.stdout}${logs.stderr}`;
}

test.serial('kubectl top pod lists the busy and the idle pod with their CPU and memory', async (t) => {
  t.timeout(5 * 60_000);
  const ns = namespace!.name;
  // metrics-server needs two scrapes of a pod before it reports it.
  const rows = await eventually(
    'kubectl top pod shows both pods with figures',
    async () => {
      const found = await topRows(['pod', '-n', ns], ['busy', 'idle']);
      return found && milliCores(found.get('busy')?.[0]) >= 100 && milliCores(found.get('idle')?.[0]) > 0
        ? found
        : undefined;
    },
    { timeoutMs: 3 * 60_000, intervalMs: 2000 },
  ).catch(async (error: unknown) => {
    t.log(await diagnostics());
    throw error;
  });
  t.log(
    [...rows].map(([name, cols]) => `${name} ${cols.join(' ')}`),
    'kubectl top pod',
  );
  const busy = rows.get('busy') ?? [];
  const idle = rows.get('idle') ?? [];
  t.true(milliCores(busy[0]) >= 100, `busy CPU ${busy[0]}`);
  t.true(milliCores(busy[0]) <= 1100, `busy CPU ${busy[0]} is one core at most`);
  t.true(milliCores(idle[0]) > 0, `idle CPU ${idle[0]}`);
  t.true(milliCores(idle[0]) < milliCores(busy[0]), 'the idle pod uses less CPU than the busy one');
  // At least what each holds, and not wildly more (a unit mix-up would be a factor of 1024).
  t.true(mebibytes(busy[1]) >= 8 && mebibytes(busy[1]) < 64, `busy memory ${busy[1]}`);
  t.true(mebibytes(idle[1]) >= 4 && mebibytes(idle[1]) < 64, `idle memory ${idle[1]}`);

  const containers = await kubectl(['top', 'pod', 'busy', '-n', ns, '--containers', '--no-headers']);
  t.is(containers.exitCode, 0, containers.stderr);
  t.regex(containers.stdout, /^busy\s+main\s+\d+m\s+\d+Mi\s*$/m);
});

test.serial('kubectl top node shows the virtual node with its CPU and memory', async (t) => {
  t.timeout(5 * 60_000);
  const node = vk!.nodeName;
  const rows = await eventually(
    `kubectl top node ${node} shows figures`,
    async () => {
      const found = await topRows(['node', node], [node]);
      return found && milliCores(found.get(node)?.[0]) >= 100 ? found : undefined;
    },
    { timeoutMs: 3 * 60_000, intervalMs: 2000 },
  ).catch(async (error: unknown) => {
    t.log(await diagnostics());
    throw error;
  });
  const cols = rows.get(node) ?? [];
  t.log(`${node} ${cols.join(' ')}`, 'kubectl top node');
  // NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%): the busy pod alone is a tenth of a core or more.
  t.true(milliCores(cols[0]) >= 100, `node CPU ${cols[0]}`);
  t.regex(cols[1] ?? '', /^\d+%$/);
  t.true(mebibytes(cols[2]) >= 12, `node memory ${cols[2]} counts at least the pods' 8 + 4 MiB`);
  t.regex(cols[3] ?? '', /^\d+%$/);
  // The node's memory is its pods' (metrics-server's own pod runs here too), not vic-kubelet's own
  // process on top: that alone is far more than the tolerance.
  const onNode = await kubectl([
    'get',
    'pods',
    '-A',
    '--field-selector',
    `spec.nodeName=${node}`,
    '-o',
    'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
  ]);
  const podsHere = new Set(onNode.stdout.trim().split('\n'));
  const podRows = await kubectl(['top', 'pod', '-A', '--no-headers']);
  const podsMiB = podRows.stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((c) => podsHere.has(`${c[0]}/${c[1]}`))
    .reduce((sum, c) => sum + mebibytes(c[3]), 0);
  const nodeMiB = mebibytes(cols[2]);
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${vk!.pid}/status`, 'utf8'))?.[1]) / 1024;
  const tolerance = 8;
  t.true(rssMiB > 3 * tolerance, `vic-kubelet's RSS ${rssMiB} MiB would show`);
  t.true(
    Math.abs(nodeMiB - podsMiB) <= tolerance,
    `node ${nodeMiB} MiB, its pods ${podsMiB} MiB (${[...podsHere].join(', ')}), vic-kubelet ${rssMiB} MiB`,
  );
  const all = await kubectl(['top', 'node', node]);
  t.false(/metrics not available/i.test(all.stdout + all.stderr), all.stdout + all.stderr);
});
