// Loaded into a real vic-kubelet by a test (NODE_OPTIONS=--import=<this file>), never by the product:
// on SIGUSR2 it throws from a signal handler (an uncaught exception) or, with
// VK_TEST_FAULT=rejection, leaves a rejected promise unhandled, so the test sees what the daemon's
// own handlers do with a fault it did not expect.
import process from 'node:process';

process.on('SIGUSR2', () => {
  if (process.env.VK_TEST_FAULT === 'rejection') {
    void Promise.reject(new Error('rejection injected by test/support/fault-on-signal.mjs'));
    return;
  }
  throw new Error('exception injected by test/support/fault-on-signal.mjs');
});
