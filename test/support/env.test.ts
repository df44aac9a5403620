// The wait helper says what it last saw when it gives up: a failing e2e test shows the state, not
// only "timed out".
import test from 'ava';
import { eventually } from './env.js';

test('eventually fails with the last state seen and the last error', async (t) => {
  let polls = 0;
  const err = await t.throwsAsync(
    eventually(
      'phase Running',
      async () => {
        polls += 1;
        if (polls === 1) throw new Error('connection refused');
        return undefined;
      },
      { timeoutMs: 50, intervalMs: 10, lastSeen: () => ({ phase: 'Pending', polls }) },
    ),
  );
  t.regex(err?.message ?? '', /timed out after 50 ms waiting for phase Running/);
  t.regex(err?.message ?? '', /last seen: \{"phase":"Pending","polls":\d+\}/);
  t.regex(err?.message ?? '', /last error: Error: connection refused/);
});
