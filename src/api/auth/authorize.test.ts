import test from 'ava';
import { FakeClock } from '../../shared/fake-clock.js';
import type { UserInfo } from './authenticate.js';
import {
  Authorizer,
  cachedAccessReviewer,
  subresourcesFor,
  verbFor,
  type AccessAttributes,
  type AccessReviewer,
} from './authorize.js';

const alice: UserInfo = { name: 'alice', groups: ['devs'] };

/** Allows exactly the listed "verb subresource" pairs and records every review. */
function reviewer(allowed: string[]): AccessReviewer & { calls: AccessAttributes[] } {
  const calls: AccessAttributes[] = [];
  return {
    calls,
    async allowed(_user, attributes) {
      calls.push(attributes);
      return allowed.includes(`${attributes.verb} ${attributes.subresource}`);
    },
  };
}

test('subresources follow the kubelet, fine-grained first then proxy', (t) => {
  t.deepEqual(subresourcesFor('/stats/summary'), ['stats']);
  t.deepEqual(subresourcesFor('/stats'), ['stats']);
  t.deepEqual(subresourcesFor('/metrics'), ['metrics']);
  t.deepEqual(subresourcesFor('/metrics/resource'), ['metrics']);
  t.deepEqual(subresourcesFor('/logs/messages'), ['log']);
  t.deepEqual(subresourcesFor('/pods'), ['pods', 'proxy']);
  t.deepEqual(subresourcesFor('/runningpods/'), ['pods', 'proxy']);
  t.deepEqual(subresourcesFor('/healthz'), ['healthz', 'proxy']);
  for (const path of [
    '/containerLogs/ns/p/c',
    '/exec/ns/p/c',
    '/attach/ns/p/c',
    '/portForward/ns/p',
    '/run/ns/p/c',
  ]) {
    t.deepEqual(subresourcesFor(path), ['proxy'], path);
  }
  t.deepEqual(subresourcesFor('/statsfoo'), ['proxy']);
  t.deepEqual(subresourcesFor('/metricsx'), ['proxy']);
});

test('verbs come from the HTTP method', (t) => {
  t.is(verbFor('GET'), 'get');
  t.is(verbFor('POST'), 'create');
  t.is(verbFor('PUT'), 'update');
  t.is(verbFor('PATCH'), 'patch');
  t.is(verbFor('DELETE'), 'delete');
  t.is(verbFor('OPTIONS'), '');
});

test('allowed through the node name and subresource', async (t) => {
  const fake = reviewer(['get stats']);
  const decision = await new Authorizer({ reviewer: fake, nodeName: 'vk-1' }).decide(
    alice,
    'GET',
    '/stats/summary',
  );
  t.true(decision.allowed);
  t.deepEqual(fake.calls, [{ verb: 'get', resource: 'nodes', subresource: 'stats', name: 'vk-1' }]);
});

test('pods falls back to proxy', async (t) => {
  const fake = reviewer(['get proxy']);
  const decision = await new Authorizer({ reviewer: fake, nodeName: 'vk-1' }).decide(alice, 'GET', '/pods');
  t.true(decision.allowed);
  t.deepEqual(
    fake.calls.map((c) => c.subresource),
    ['pods', 'proxy'],
  );
});

test('denied with the message the kubelet writes', async (t) => {
  const authorizer = new Authorizer({ reviewer: reviewer([]), nodeName: 'vk-1' });
  t.deepEqual(await authorizer.decide(alice, 'POST', '/exec/ns/p/c'), {
    allowed: false,
    status: 403,
    message: 'Forbidden (user=alice, verb=create, resource=nodes, subresource(s)=[proxy])',
  });
  const pods = await authorizer.decide(alice, 'GET', '/pods');
  t.is(
    !pods.allowed && pods.message,
    'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[pods proxy])',
  );
});

test('a method without a verb is denied without asking', async (t) => {
  const fake = reviewer(['get proxy']);
  const decision = await new Authorizer({ reviewer: fake, nodeName: 'n' }).decide(alice, 'OPTIONS', '/pods');
  t.false(decision.allowed);
  t.is(fake.calls.length, 0);
});

test('a failing review is a 500 authorization error', async (t) => {
  const failing: AccessReviewer = {
    allowed: () => Promise.reject(new Error('connection refused')),
  };
  const decision = await new Authorizer({ reviewer: failing, nodeName: 'n' }).decide(
    alice,
    'GET',
    '/stats/summary',
  );
  t.like(decision, {
    allowed: false,
    status: 500,
    message: 'Authorization error (user=alice, verb=get, resource=nodes, subresource=stats)',
  });
});

test('decisions are cached: allow 5 minutes, deny 30 seconds, errors not at all', async (t) => {
  const clock = new FakeClock(1_000_000);
  let answer: boolean | Error = true;
  let calls = 0;
  const cached = cachedAccessReviewer(
    {
      async allowed() {
        calls += 1;
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
    { clock },
  );
  const attrs: AccessAttributes = { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'n' };
  t.true(await cached.allowed(alice, attrs));
  answer = false;
  clock.advance(299_000);
  t.true(await cached.allowed(alice, attrs));
  t.is(calls, 1);
  clock.advance(2_000);
  t.false(await cached.allowed(alice, attrs));
  t.is(calls, 2);
  answer = true;
  clock.advance(29_000);
  t.false(await cached.allowed(alice, attrs));
  clock.advance(2_000);
  t.true(await cached.allowed(alice, attrs));
  t.is(calls, 3);
  // Another user or another subresource is another entry.
  t.true(await cached.allowed({ name: 'bob', groups: [] }, attrs));
  t.true(await cached.allowed(alice, { ...attrs, subresource: 'stats' }));
  t.is(calls, 5);
  answer = new Error('down');
  clock.advance(400_000);
  await t.throwsAsync(cached.allowed(alice, attrs));
  await t.throwsAsync(cached.allowed(alice, attrs));
  t.is(calls, 7);
});
