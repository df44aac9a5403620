// Termination messages read once per container, the previous attempt's included (for lastState).
import test from 'ava';
import { Readable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { silentLogger } from '../../shared/logger.js';
import type { PodVmStatus } from '../../vch/types.js';
import { TerminationMessages } from './termination-messages.js';

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  spec: {
    containers: [{ name: 'main', image: 'busybox', terminationMessagePolicy: 'FallbackToLogsOnError' }],
  },
};

test('the previous attempt’s file is read from its own container, once; the log fallback is only the newest attempt’s', async (t) => {
  const reads: string[] = [];
  let logReads = 0;
  const messages = new TerminationMessages({
    readFile: (id, path) => {
      reads.push(`${id}:${path}`);
      return Promise.resolve(id === 'first' ? 'first: out of disk' : undefined);
    },
    logs: () => {
      logReads += 1;
      return Promise.resolve(Readable.from([Buffer.from('log tail')]));
    },
    logger: silentLogger,
  });
  const vm: PodVmStatus = {
    pod: { namespace: 'ns', name: 'web', uid: 'u1' },
    nodeName: 'n',
    initContainers: [],
    containers: [
      {
        name: 'main',
        role: 'app',
        attempt: 1,
        id: 'second',
        image: 'busybox',
        imageId: 'sha256:x',
        state: { kind: 'running', startedAt: new Date(0) },
        lastState: { kind: 'terminated', exitCode: 1, reason: 'Error' },
        lastStateId: 'first',
        restartCount: 1,
      },
    ],
  };
  await messages.collect(pod, vm);
  await messages.collect(pod, vm);
  t.deepEqual(reads, ['first:/dev/termination-log']);
  t.is(messages.message('first'), 'first: out of disk');
  t.is(logReads, 0);
  messages.forget('u1');
  t.is(messages.message('first'), undefined);
});
