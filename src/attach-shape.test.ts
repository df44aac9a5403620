// One neutral stream shape from the transport down to the VCH: the session a transport builds is
// handed to the provider and on to src/vch as it is, and the same ExitResult comes back up. The type
// checker (tsc --noEmit) holds this test to it; the runtime part checks the session carries through.
import { PassThrough } from 'node:stream';
import test from 'ava';
import type {
  AttachIO as ProviderAttachIO,
  ExitResult as ProviderExitResult,
} from './provider/kubelet-api.js';
import type { AttachIO as VchAttachIO, ExitResult as VchExitResult } from './vch/index.js';
import { createAttachSession, type AttachSession } from './api/streaming/attach-session.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAttachIO: Same<ProviderAttachIO, VchAttachIO> = true;
const sameExitResult: Same<ProviderExitResult, VchExitResult> = true;

test('a transport’s session is the AttachIO that the provider and src/vch take', async (t) => {
  const stdout = new PassThrough();
  const session: AttachSession = createAttachSession({
    stdout,
    tty: false,
    resize: (async function* () {})(),
    signal: new AbortController().signal,
    statusFormat: 'json',
    command: [],
    complete: async () => undefined,
  });
  const toProvider: ProviderAttachIO = session;
  const toVch: VchAttachIO = toProvider;
  t.is(toVch.stdout, stdout);
  t.true(sameAttachIO && sameExitResult);
});
