import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { MachineState } from './state.js';
import { kubeletEnvironment, restartDelay, runSupervisor } from './supervisor.js';

test('the restart delay doubles from one second and stops at a minute', (t) => {
  t.deepEqual(
    [1, 2, 3, 4, 7, 20].map((n) => restartDelay(n)),
    [1000, 2000, 4000, 8000, 60_000, 60_000],
  );
});

test('vic-kubelet runs without the variables that would override its config file', (t) => {
  const env = kubeletEnvironment({
    PATH: '/bin',
    VK_PORT: '1',
    KUBECONFIG: '/k',
    DOCKER_HOST: 'x',
    LOG_LEVEL: 'x',
  });
  t.deepEqual(env, { PATH: '/bin', VK_LOG_FORMAT: 'json' });
});

test('the supervisor restarts a child that exits, keeps its output, and stops on SIGTERM', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'vm-sup-'));
  const state = new MachineState(root, 'n1');
  state.write(
    {
      name: 'n1',
      createdAt: '',
      version: '',
      target: '',
      tls: { noVerify: false },
      k8sServerAddress: '',
      k8sConfig: '',
      kubeletPort: 1,
    },
    {},
  );
  // A stand-in for vic-kubelet: prints, then exits 3 on its first two runs and stays up on the third.
  const counter = join(root, 'runs');
  writeFileSync(counter, '0');
  const script = `
    const fs = require('fs'); const n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
    fs.writeFileSync(${JSON.stringify(counter)}, String(n));
    console.log('run ' + n);
    if (n < 3) process.exit(3);
    setInterval(() => {}, 1000);`;
  const listeners = process.listeners('SIGTERM');
  const supervised = runSupervisor({
    state,
    kubelet: { file: process.execPath, args: ['-e', script] },
    backOff: { initialMs: 50, maxMs: 100, resetAfterMs: 60_000 },
  });
  const deadline = Date.now() + 10_000;
  // The third run counted, running, and its line in the log (the pipe may deliver it a moment later).
  const thirdRunLogged = () =>
    existsSync(state.kubeletLog) && readFileSync(state.kubeletLog, 'utf8').includes('run 3\n');
  while (readFileSync(counter, 'utf8') !== '3' || state.kubeletPid() === undefined || !thirdRunLogged()) {
    if (Date.now() > deadline) t.fail(`third run never came: ${readFileSync(state.supervisorLog, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(state.status().restarts, 2);
  t.is(state.status().lastExit?.code, 3);
  t.is(state.supervisorPid(), process.pid);
  process.emit('SIGTERM');
  await supervised;
  for (const l of process.listeners('SIGTERM')) if (!listeners.includes(l)) process.off('SIGTERM', l);
  t.is(state.kubeletPid(), undefined);
  t.is(readFileSync(state.kubeletLog, 'utf8'), 'run 1\nrun 2\nrun 3\n');
  t.regex(readFileSync(state.supervisorLog, 'utf8'), /restarting vic-kubelet in 100 ms \(restart 2\)/);
});
