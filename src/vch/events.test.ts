import test from 'ava';
import { buildLabels } from './labels.js';
import { EventDeduper, sinceParameter, toVchEvent, type DockerEvent } from './events.js';

const pod = { namespace: 'ns', name: 'web', uid: 'u-1' };
const attributes = {
  ...buildLabels({ nodeName: 'n', pod, containerName: 'app', role: 'app', attempt: 1, index: 0 }),
  name: 'x',
};

function event(action: string, timeNano: number, id = 'c1', extra: Record<string, string> = {}): DockerEvent {
  return {
    Type: 'container',
    Action: action,
    Actor: { ID: id, Attributes: { ...attributes, ...extra } },
    time: Math.floor(timeNano / 1e9),
    timeNano,
  };
}

test('a container event of ours becomes a plain event with pod and container', (t) => {
  const e = toVchEvent(event('die', 1_700_000_000_123_000_000, 'c1', { exitCode: '3' }));
  t.deepEqual(e, {
    podUid: 'u-1',
    podNamespace: 'ns',
    podName: 'web',
    containerName: 'app',
    role: 'app',
    attempt: 1,
    containerId: 'c1',
    action: 'die',
    time: new Date(1_700_000_000_123),
    exitCode: 3,
  });
});

test('exec, attach and foreign containers produce no event', (t) => {
  t.is(toVchEvent(event('exec_create: sh', 1e18)), undefined);
  t.is(toVchEvent(event('attach', 1e18)), undefined);
  t.is(toVchEvent({ ...event('start', 1e18), Actor: { ID: 'c', Attributes: { name: 'x' } } }), undefined);
  t.is(toVchEvent({ ...event('start', 1e18), Type: 'network' }), undefined);
});

test('events replayed after a reconnect are delivered once', (t) => {
  const d = new EventDeduper(5000);
  const first = [event('create', 1e18), event('start', 1e18 + 1e6), event('die', 1e18 + 2e6)];
  t.deepEqual(
    first.map((e) => d.admit(e)),
    [true, true, true],
  );
  // The replay reaches back, then continues with what happened while the stream was down.
  const replay = [event('start', 1e18 + 1e6), event('die', 1e18 + 2e6), event('destroy', 1e18 + 3e6)];
  t.deepEqual(
    replay.map((e) => d.admit(e)),
    [false, false, true],
  );
  t.is(d.newestNs, 1e18 + 3e6);
});

test('the same action at the same time on two containers is two events', (t) => {
  const d = new EventDeduper();
  t.true(d.admit(event('start', 1e18, 'a')));
  t.true(d.admit(event('start', 1e18, 'b')));
});

test('old keys are forgotten once the stream has moved past the window', (t) => {
  const d = new EventDeduper(1000);
  t.true(d.admit(event('start', 1e18)));
  t.true(d.admit(event('die', 1e18 + 5e9)));
  // Far behind the window: it can no longer be told from a new event, and the memory is bounded.
  t.true(d.admit(event('start', 1e18)));
});

test('resuming reaches back a second before the newest event seen', (t) => {
  t.is(sinceParameter(1_700_000_010_500_000_000), '1700000009.500000000');
  t.is(sinceParameter(0), '0.000000000');
});
