import test from 'ava';
import { FakeClock } from '../shared/fake-clock.js';
import { silentLogger } from '../shared/logger.js';
import type { VchClient } from './client.js';
import type { VchEvent } from './events.js';
import { buildLabels } from './labels.js';
import { changesBetween, StatePoller, StatusSource, type ListedContainer } from './state-poller.js';

const pod = { namespace: 'ns', name: 'web', uid: 'u-1' };
const labels = buildLabels({ nodeName: 'n', pod, containerName: 'app', role: 'app', attempt: 0, index: 0 });
const at = new Date(5000);

const listed = (id: string, state: string, status = ''): ListedContainer => ({ id, state, status, labels });
const byId = (...cs: ListedContainer[]) => new Map(cs.map((c) => [c.id, c]));
const actions = (events: VchEvent[]) => events.map((e) => `${e.containerId}:${e.action}`);

test('between two lists: a new running container was created and started; an exit is a die with its code', (t) => {
  const events = changesBetween(
    byId(listed('a', 'running')),
    byId(listed('a', 'exited', 'Exited (3) 1 second ago'), listed('b', 'running')),
    at,
  );
  t.deepEqual(actions(events), ['a:die', 'b:create', 'b:start']);
  t.like(events[0], { podName: 'web', podNamespace: 'ns', containerName: 'app', exitCode: 3, time: at });
});

test('between two lists: a vanished container died (if it ran) and was destroyed; no change is no event', (t) => {
  t.deepEqual(actions(changesBetween(byId(listed('a', 'running')), byId(), at)), ['a:die', 'a:destroy']);
  t.deepEqual(actions(changesBetween(byId(listed('a', 'exited')), byId(), at)), ['a:destroy']);
  t.deepEqual(actions(changesBetween(byId(listed('a', 'running')), byId(listed('a', 'running')), at)), []);
  t.deepEqual(actions(changesBetween(byId(listed('a', 'created')), byId(listed('a', 'running')), at)), [
    'a:start',
  ]);
  // A container not of ours (no labels) says nothing.
  const foreign = { id: 'x', state: 'running', status: '', labels: { other: 'yes' } };
  t.deepEqual(actions(changesBetween(byId(), byId(foreign), at)), []);
});

function listingClient(answers: () => unknown[]): { client: VchClient; calls: unknown[] } {
  const calls: unknown[] = [];
  const docker = {
    listContainers: async (options: unknown) => {
      calls.push(options);
      return answers();
    },
  };
  return { client: { docker, endpoint: 'unix:///x', logger: silentLogger } as unknown as VchClient, calls };
}

const settle = () => new Promise((r) => setImmediate(r));

test('the poller lists the node’s containers every second: a resync first, then the changes as events', async (t) => {
  let state = 'running';
  const { client, calls } = listingClient(() => [
    { Id: 'a', State: state, Status: state === 'exited' ? 'Exited (7) now' : 'Up', Labels: labels },
  ]);
  const clock = new FakeClock(1000);
  const events: VchEvent[] = [];
  let resyncs = 0;
  const poller = new StatePoller(client, {
    nodeName: 'n',
    clock,
    onEvent: (e) => events.push(e),
    onResync: () => void (resyncs += 1),
  });
  poller.start();
  await settle();
  t.is(calls.length, 1);
  t.deepEqual(calls[0], {
    all: true,
    filters: { label: ['vic-kubelet.io/managed=true', 'vic-kubelet.io/node=n'] },
  });
  await settle();
  t.is(resyncs, 1, 'the first list has nothing to compare with');
  t.deepEqual(events, []);
  state = 'exited';
  clock.advance(999);
  await settle();
  t.is(calls.length, 1, 'not before the interval');
  clock.advance(1);
  await settle();
  t.is(calls.length, 2);
  t.deepEqual(actions(events), ['a:die']);
  t.is(events[0]?.exitCode, 7);
  poller.stop();
  clock.advance(5000);
  await settle();
  t.is(calls.length, 2, 'stopped');
});

test('the status source follows the events ability: stream, then lists after a re-detection says none, with a resync', (t) => {
  const clock = new FakeClock();
  let events = true;
  const log: string[] = [];
  const made = (name: string) => ({
    start: () => log.push(`${name} start`),
    stop: () => log.push(`${name} stop`),
  });
  let resyncs = 0;
  const source = new StatusSource({
    stream: () => made('stream'),
    poll: () => made('poll'),
    eventsOn: () => events,
    onSwitch: () => void (resyncs += 1),
    clock,
  });
  source.start();
  t.is(source.mode, 'events');
  clock.advance(3000);
  t.deepEqual(log, ['stream start']);
  events = false;
  clock.advance(1000);
  t.is(source.mode, 'poll');
  t.deepEqual(log, ['stream start', 'stream stop', 'poll start']);
  source.stop();
  t.deepEqual(log, ['stream start', 'stream stop', 'poll start', 'poll stop']);
  t.is(source.mode, undefined);
  return settle().then(() => t.is(resyncs, 1));
});

test('a VCH known to lack events is polled from the start', (t) => {
  const source = new StatusSource({
    stream: () => ({ start() {}, stop() {} }),
    poll: () => ({ start() {}, stop() {} }),
    eventsOn: () => false,
    clock: new FakeClock(),
  });
  source.start();
  t.is(source.mode, 'poll');
  source.stop();
});
