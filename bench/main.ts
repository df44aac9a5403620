// npm run bench: every scenario of issue 15 against the real control plane and Docker engine, each
// figure beside the raw engine's floor measured in the same run; prints a table and writes
// bench/results/<time>.json. Targets are reported, never asserted.
//   VK_BENCH_SCALE=small        quick run (bursts 20/50); default: the sizes (100/300/500)
//   VK_BENCH_SCENARIOS=a,b      only these: startup,status,logs,exec,vic,volumes,vch,scale,requests
//   VK_BENCH_PROFILE=1          CPU profiles and a heap snapshot at the largest burst, in results/profiles
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { kubeConfig } from '../test/support/env.js';
import { cleanupAll, cleanupOnSignals, onCleanup, removeRawContainers } from './lib/cleanup.js';
import { newRunId, scaleFromEnv, type BenchContext } from './lib/context.js';
import { loadAverage } from './lib/proc.js';
import { Report } from './lib/report.js';
import { requests } from './scenarios/requests.js';
import { scale } from './scenarios/scale.js';
import { startup } from './scenarios/startup.js';
import { status } from './scenarios/status.js';
import { exec, logs } from './scenarios/streams.js';
import { vchCreate } from './scenarios/vch-create.js';
import { vicLayout } from './scenarios/vic-layout.js';
import { volumes } from './scenarios/volumes.js';

const scenarios: Record<string, (ctx: BenchContext) => Promise<void>> = {
  startup,
  status,
  logs,
  exec,
  vic: vicLayout,
  volumes,
  vch: vchCreate,
  scale,
  requests,
};

const chosen = (process.env.VK_BENCH_SCENARIOS ?? Object.keys(scenarios).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const name of chosen) {
  if (!scenarios[name])
    throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
}

cleanupOnSignals();
const ctx: BenchContext = { report: new Report(), scale: scaleFromEnv(), runId: newRunId() };
onCleanup('raw engine containers', () => removeRawContainers(ctx.runId));
const version = await kubeConfig().makeApiClient(k8s.VersionApi).getCode();
const loadBefore = loadAverage();
const failures: { scenario: string; error: string }[] = [];
ctx.report.describe({
  runId: ctx.runId,
  scale: ctx.scale,
  kubernetes: version.gitVersion,
  loadBefore,
  failures,
});
console.log(
  `bench ${ctx.runId}: scale ${ctx.scale.name}, Kubernetes ${version.gitVersion}, load ${loadBefore}, scenarios ${chosen.join(', ')}`,
);
for (const name of chosen) {
  console.log(`== ${name}`);
  try {
    await scenarios[name]!(ctx);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    console.error(`scenario ${name} failed: ${text}`);
    failures.push({ scenario: name, error: text });
  }
}
await cleanupAll();
const engineVersion = (() => {
  try {
    return execFileSync(
      'docker',
      ['-H', process.env.DOCKER_HOST ?? '', 'version', '--format', '{{.Server.Version}}'],
      {
        encoding: 'utf8',
      },
    ).trim();
  } catch {
    return 'unknown';
  }
})();
console.log(`\n${ctx.report.table()}\n`);
const file = ctx.report.write({
  runId: ctx.runId,
  scale: ctx.scale,
  kubernetes: version.gitVersion,
  engine: engineVersion,
  loadBefore,
  loadAfter: loadAverage(),
  failures,
});
console.log(`written ${file}`);
if (failures.length) {
  console.error(`${failures.length} scenario(s) failed: ${failures.map((f) => f.scenario).join(', ')}`);
  process.exitCode = 1;
}
