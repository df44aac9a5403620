// Preloaded into a bench vic-kubelet (NODE_OPTIONS=--import=...; Node 20 refuses --cpu-prof there):
// profiles the process's CPU from start to exit with the in-process inspector and writes the profile,
// synchronously at exit, to $VK_BENCH_CPU_PROFILE (open it in Chrome DevTools or speedscope).
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { Session } from 'node:inspector';

const out = process.env.VK_BENCH_CPU_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // An in-process session answers synchronously, so the profile is written before the exit.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(out, JSON.stringify(result.profile));
    });
  });
}
