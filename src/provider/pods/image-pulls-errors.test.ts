// Errors an image pull must not swallow: the VCH not answering an inspect is not "image absent", and a
// pull secret that is missing or malformed is reported with what to fix. On a fake clock.
import test from 'ava';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { VicError } from '../../shared/errors.js';
import { FakeClock } from '../../shared/fake-clock.js';
import type { VchImages } from '../../vch/index.js';
import type { EventRecorder } from '../kube/event-recorder.js';
import { ImagePulls } from './image-pulls.js';
import { pullCredentials, readPullSecret } from './pull-secrets.js';

const pod: V1Pod = { metadata: { namespace: 'ns', name: 'p', uid: 'u1' }, spec: { containers: [] } };
const container = { name: 'main', image: 'busybox:1.36', policy: 'IfNotPresent' as const, fieldPath: 'f' };

function recorder() {
  const events: Array<{ type: string; reason: string; message: string }> = [];
  const r: EventRecorder = {
    record: (_pod, { type, reason, message }) => events.push({ type, reason, message }),
  };
  return { r, events };
}

/** A VCH image store whose inspect and pull answer as given; counts the pulls. */
function imageStore(answers: { inspect: () => Promise<unknown>; pull: () => Promise<unknown> }) {
  const store = { pulls: 0 };
  const images = {
    inspect: answers.inspect,
    ensure: async () => {
      store.pulls += 1;
      return answers.pull();
    },
  } as unknown as VchImages;
  return Object.assign(store, { images });
}

test('a VCH that does not answer an inspect gives ImageInspectError and an event, never a pull', async (t) => {
  const store = imageStore({
    inspect: () =>
      Promise.reject(new VicError('VchUnavailable', 'inspect image busybox:1.36: connect ECONNREFUSED')),
    pull: async () => ({ id: 'sha256:x' }),
  });
  const images = store.images;
  const { r, events } = recorder();
  const pulls$ = new ImagePulls({ images, recorder: r, clock: new FakeClock() });
  const outcome = await pulls$.ensure(pod, container, []);
  t.like(outcome, { ok: false, waiting: { reason: 'ImageInspectError' } });
  t.true(!outcome.ok && (outcome.retryAfterMs ?? 0) > 0);
  t.is(store.pulls, 0);
  t.like(events[0], { type: 'Warning', reason: 'InspectFailed' });
  t.regex(events[0]?.message ?? '', /ECONNREFUSED; the pull waits until the VCH answers/);
});

const secret = (name: string, data: Record<string, string>): V1Secret => ({
  metadata: { name, namespace: 'ns' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

test('a malformed or missing pull secret is a problem that names the secret and what to fix', async (t) => {
  t.regex(
    readPullSecret(secret('bad', { '.dockerconfigjson': '{not json' })).problem ?? '',
    /"bad".*not valid JSON/,
  );
  t.regex(
    readPullSecret(secret('half', { '.dockerconfigjson': '{"auths":{"r.example":{"username":"u"}}}' }))
      .problem ?? '',
    /"half".*r\.example has no username and password/,
  );
  t.is(
    readPullSecret(secret('good', { '.dockerconfigjson': '{"auths":{"r":{"auth":"dTpw"}}}' })).problem,
    undefined,
  );
  const sources = {
    configMap: async () => undefined,
    secret: async (_ns: string, name: string) =>
      name === 'bad' ? secret('bad', { '.dockerconfigjson': '[]' }) : undefined,
  };
  const creds = await pullCredentials(
    { ...pod, spec: { containers: [], imagePullSecrets: [{ name: 'bad' }, { name: 'gone' }] } },
    sources,
  );
  t.deepEqual([...creds], []);
  t.is(creds.problems?.length, 2);
  t.regex(creds.problems?.[1] ?? '', /"gone" not found in namespace "ns"; create it/);
});

test('the pull reports the pull secret problems in a FailedToRetrieveImagePullSecret event', async (t) => {
  const images = {
    inspect: async () => undefined,
    ensure: async () => ({ id: 'sha256:x' }),
  } as unknown as VchImages;
  const { r, events } = recorder();
  const credentials = Object.assign([], {
    problems: ['fix image pull secret "bad": its .dockerconfigjson is not valid JSON'],
  });
  const outcome = await new ImagePulls({ images, recorder: r, clock: new FakeClock() }).ensure(
    pod,
    container,
    credentials,
  );
  t.true(outcome.ok);
  const warning = events.find((e) => e.reason === 'FailedToRetrieveImagePullSecret');
  t.regex(warning?.message ?? '', /fix image pull secret "bad"/);
});

test('an inspect the VCH answers with a bad name is left to the pull, which names the reason', async (t) => {
  const store = imageStore({
    inspect: () =>
      Promise.reject(new VicError('Invalid', 'inspect image UPPER/Case: invalid reference format')),
    pull: () =>
      Promise.reject(new VicError('InvalidImageName', 'pull image "UPPER/Case": invalid reference format')),
  });
  const images = store.images;
  const { r } = recorder();
  const outcome = await new ImagePulls({ images, recorder: r, clock: new FakeClock() }).ensure(
    pod,
    { ...container, image: 'UPPER/Case' },
    [],
  );
  t.is(store.pulls, 1);
  t.like(outcome, { ok: false, waiting: { reason: 'InvalidImageName' } });
});

test('after a failed pull the next try waits on the clock: ImagePullBackOff until then, a pull after', async (t) => {
  const store = imageStore({
    inspect: async () => undefined,
    pull: () =>
      Promise.reject(new VicError('RegistryUnavailable', 'registry r.example is unreachable from the VCH')),
  });
  const images = store.images;
  const clock = new FakeClock();
  const { r } = recorder();
  const pulls$ = new ImagePulls({ images, recorder: r, clock });
  const first = await pulls$.ensure(pod, container, []);
  t.like(first, { ok: false, waiting: { reason: 'ErrImagePull' } });
  const wait = first.ok ? 0 : (first.retryAfterMs ?? 0);
  t.true(wait > 0);
  clock.advance(wait - 1);
  t.like(await pulls$.ensure(pod, container, []), { ok: false, waiting: { reason: 'ImagePullBackOff' } });
  t.is(store.pulls, 1, 'no pull while the back-off holds');
  clock.advance(1);
  await pulls$.ensure(pod, container, []);
  t.is(store.pulls, 2);
});
