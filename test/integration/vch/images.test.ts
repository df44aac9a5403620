// Images and pulls against the real Docker engine and the test registry (127.0.0.1:15000, htpasswd).
import test from 'ava';
import { VicError } from '../../../src/shared/errors.js';
import {
  BUSYBOX,
  cleanupNode,
  container,
  makeVch,
  podSpec,
  rawDocker,
  startProxy,
  uniqueNode,
} from './_helpers.js';

const REGISTRY = process.env.VK_REGISTRY ?? '127.0.0.1:15000';
const PRIVATE = `${REGISTRY}/vic/busybox:latest`;
const GOOD = {
  registry: REGISTRY,
  username: process.env.VK_REGISTRY_USER ?? 'vic',
  password: process.env.VK_REGISTRY_PASSWORD ?? 'vic-test-password',
};
const WRONG = { registry: REGISTRY, username: 'vic', password: 'not-the-password' };

const node = uniqueNode('images');
const vch = makeVch(node);

async function untag(image: string): Promise<void> {
  // Only the tag goes: the same image stays under its vic-test name for the other tests.
  await rawDocker()
    .getImage(image)
    .remove()
    .catch(() => undefined);
}

test.before(() => untag(PRIVATE));

test.after.always(async () => {
  vch.close();
  await cleanupNode(node);
  await untag(PRIVATE);
});

async function pullError(run: Promise<unknown>): Promise<VicError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof VicError)) throw new Error(`expected a VicError, got ${String(err)}`);
  return err;
}

test.serial('IfNotPresent and Never use an image that is there without asking any registry', async (t) => {
  const proxy = await startProxy();
  const proxied = makeVch(node, { endpoint: proxy.endpoint });
  try {
    const a = await proxied.images.ensure(BUSYBOX, { policy: 'IfNotPresent' });
    const b = await proxied.images.ensure(BUSYBOX, { policy: 'Never' });
    t.regex(a.id, /^sha256:[0-9a-f]{64}$/);
    t.is(b.id, a.id);
    t.deepEqual(a.cmd, ['sh']);
    t.false(proxy.requests.some((r) => r.includes('/images/create')));
  } finally {
    proxied.close();
    await proxy.close();
  }
});

test.serial('Never with an absent image is ImageNotFound that says why', async (t) => {
  const err = await pullError(vch.images.ensure(PRIVATE, { policy: 'Never' }));
  t.is(err.code, 'ImageNotFound');
  t.regex(err.message, /not present on the VCH and its pull policy is Never/);
});

test.serial(
  'wrong credentials are ImageUnauthorized saying what to check, never naming the user',
  async (t) => {
    const err = await pullError(vch.images.ensure(PRIVATE, { policy: 'Always', credentials: [WRONG] }));
    t.is(err.code, 'ImageUnauthorized');
    t.regex(
      err.message,
      /registry 127\.0\.0\.1:15000 refused the credentials given for it.*check the image pull secret/,
    );
    // The message lands in pod statuses and events: neither the user name nor the password is in it.
    t.false(err.message.includes(`"${WRONG.username}"`), err.message);
    t.false(err.message.includes(WRONG.password), err.message);
    t.false('username' in err.details, JSON.stringify(err.details));
  },
);

test.serial(
  'no credentials for a private registry is ImageUnauthorized asking for a pull secret',
  async (t) => {
    const err = await pullError(
      vch.images.ensure(PRIVATE, { policy: 'IfNotPresent', credentials: [{ ...GOOD, registry: 'quay.io' }] }),
    );
    t.is(err.code, 'ImageUnauthorized');
    t.regex(
      err.message,
      /requires credentials and none were given for it.*add an image pull secret for 127\.0\.0\.1:15000/,
    );
  },
);

test.serial('an image the registry does not have is ImageNotFound', async (t) => {
  const err = await pullError(
    vch.images.ensure(`${REGISTRY}/vic/no-such-image:1.0`, { credentials: [GOOD] }),
  );
  t.is(err.code, 'ImageNotFound');
  t.regex(err.message, /has no such image/);
  const tag = await pullError(
    vch.images.ensure(`${REGISTRY}/vic/busybox:no-such-tag`, { credentials: [GOOD] }),
  );
  t.is(tag.code, 'ImageNotFound');
});

test.serial('an unreachable registry is RegistryUnavailable', async (t) => {
  const err = await pullError(vch.images.ensure('127.0.0.1:1/vic/busybox:latest', { policy: 'Always' }));
  t.is(err.code, 'RegistryUnavailable');
  t.regex(err.message, /registry 127\.0\.0\.1:1 is unreachable from the VCH.*connection refused/);
});

test.serial('an invalid image name is refused before the VCH is asked', async (t) => {
  const proxy = await startProxy();
  const proxied = makeVch(node, { endpoint: proxy.endpoint });
  try {
    const err = await pullError(proxied.images.ensure('Vic/BusyBox:latest'));
    t.is(err.code, 'InvalidImageName');
    t.regex(err.message, /invalid image name "Vic\/BusyBox:latest": repository names must be lowercase/);
    t.deepEqual(proxy.requests, []);
  } finally {
    proxied.close();
    await proxy.close();
  }
});

test.serial(
  'the right credential among several pulls the image, and concurrent pulls share one request',
  async (t) => {
    const proxy = await startProxy();
    const proxied = makeVch(node, { endpoint: proxy.endpoint });
    try {
      // The wrong one is tried first (it is more specific) and the next one wins, as kubelet does.
      const creds = [{ ...WRONG, registry: `${REGISTRY}/vic` }, GOOD];
      const [a, b, c] = await Promise.all([
        proxied.images.ensure(PRIVATE, { policy: 'Always', credentials: creds }),
        proxied.images.ensure(PRIVATE, { policy: 'Always', credentials: creds }),
        proxied.images.ensure(PRIVATE, { policy: 'Always', credentials: creds }),
      ]);
      t.is(a.id, b.id);
      t.is(b.id, c.id);
      t.true(a.repoDigests.some((d) => d.startsWith(`${REGISTRY}/vic/busybox@sha256:`)));
      t.is(proxy.requests.filter((r) => r.startsWith('POST /images/create')).length, 2);
    } finally {
      proxied.close();
      await proxy.close();
    }
  },
);

test.serial('a pod VM from the private registry reports a docker-pullable image ID', async (t) => {
  const spec = podSpec(
    node,
    'pulled',
    [container('app', { image: PRIVATE, imagePullPolicy: 'Always', command: ['sleep', '3600'] })],
    {
      registryCredentials: [GOOD],
    },
  );
  await vch.pods.create(spec);
  await vch.pods.start(spec.pod.uid);
  const status = await vch.pods.status(spec.pod.uid);
  t.is(status?.containers[0]?.image, PRIVATE);
  t.regex(status?.containers[0]?.repoDigest ?? '', /^127\.0\.0\.1:15000\/vic\/busybox@sha256:[0-9a-f]{64}$/);
  await vch.pods.remove(spec.pod.uid);
});

test.serial(
  'a pod VM whose image cannot be pulled fails with the container named, and creates no containers for it',
  async (t) => {
    const spec = podSpec(
      node,
      'unpulled',
      [container('app', { image: PRIVATE, imagePullPolicy: 'Always' })],
      {
        registryCredentials: [WRONG],
      },
    );
    const err = await pullError(vch.pods.create(spec));
    t.is(err.code, 'ImageUnauthorized');
    t.regex(err.message, /^container "app": pull image/);
    t.is(err.details.container, 'app');
    const vm = await vch.pods.get(spec.pod.uid);
    t.deepEqual(vm?.members, []);
    await vch.pods.remove(spec.pod.uid);
  },
);
