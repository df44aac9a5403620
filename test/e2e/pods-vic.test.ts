// The pod suite in the vm-per-pod layout: vic-kubelet in front of the VIC contract proxy
// (test/support/vic-proxy.ts), which says it is a vSphere Integrated Containers VCH and refuses what VIC
// refuses, in front of the real engine. Restart policies, init containers, exit codes, logs, exec,
// port-forward, deletion and adoption after a restart work as in the shared layout (pods.test.ts); a
// pod the layout cannot lay out fails at once; the VCH's abilities show on the Node and in the log.
import { get } from 'node:http';
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { docker, eventually, kubeConfig, kubectl, testEnv } from '../support/env.js';
import { containerStatus, core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { kubeletRequest } from '../support/kubelet-client.js';
import { startKubectl } from '../support/pty.js';
import { podVmContainers } from '../support/vic-kubelet.js';
import { VIC_POOL_CAPACITY, vicProxyForFile } from '../support/vic-proxy.js';
import { virtualNodeForFile } from '../support/virtual-node.js';

const vic = vicProxyForFile(test, testEnv.dockerHost);
const node = virtualNodeForFile(test, 'vk-pods-vic', { args: ['--vch', vic.endpoint, ...VIC_POOL_CAPACITY] });

const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);

const containersOf = async (uid: string | undefined) =>
  (await podVmContainers(node.vk.nodeName)).filter((c) => c.labels['vic-kubelet.io/pod-uid'] === uid);

test.after.always('the vm-per-pod layout asked the VIC proxy for nothing VIC lacks', (t) => {
  t.deepEqual(vic.proxy.refused, []);
});

test.serial(
  'the VCH is known as VIC: layout and product labels, the abilities annotation, one log line',
  async (t) => {
    const n = await core().readNode({ name: node.vk.nodeName });
    t.like(n.metadata?.labels, {
      'vic-kubelet.io/layout': 'vm-per-pod',
      'vic-kubelet.io/vch-product': 'vic',
      // VIC's /info says OSType "vmnix-x86" (the ESX host's); the Node still says linux.
      'kubernetes.io/os': 'linux',
    });
    const annotation = JSON.parse(
      n.metadata?.annotations?.['vic-kubelet.io/vch-abilities'] ?? '{}',
    ) as Record<string, unknown>;
    t.like(annotation, {
      product: 'vic',
      name: 'vSphere Integrated Containers v1.5.6 Backend Engine',
      version: '1.5.6',
      apiVersion: '1.25',
      layout: 'vm-per-pod',
      abilities: {
        sharedNamespaces: false,
        exec: true,
        resize: true,
        stats: true,
        events: true,
        namedVolumes: true,
        archives: true,
      },
    });
    const selected = await kubectl(['get', 'nodes', '-l', 'vic-kubelet.io/layout=vm-per-pod', '-o', 'name']);
    t.true(selected.stdout.split('\n').includes(`node/${node.vk.nodeName}`));
    const logged = node.vk
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"VCH abilities"'));
    t.is(logged.length, 1, 'logged once');
    t.regex(logged[0] ?? '', /"layout":"vm-per-pod"/);
  },
);

test('a 3-replica Deployment becomes Ready; each pod VM is one container VM that owns the pod IP', async (t) => {
  const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: node.ns,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: on({ containers: [shell('web', 'sleep 3600', { ports: [{ containerPort: 80 }] })] }),
        },
      },
    },
  });
  await eventually(
    'deployment available',
    async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: node.ns });
      return d.status?.readyReplicas === 3 ? d : undefined;
    },
    { timeoutMs: 90_000 },
  );
  const pods = await core().listNamespacedPod({ namespace: node.ns, labelSelector: 'app=web' });
  t.is(new Set(pods.items.map((p) => p.status?.podIP)).size, 3, 'each pod VM has its own IP');
  for (const pod of pods.items) {
    t.deepEqual(
      pod.status?.conditions
        ?.filter((c) => c.status === 'True')
        .map((c) => c.type)
        .sort(),
      ['ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'PodScheduled', 'Ready'],
    );
    const id = containerStatus(pod, 'web')?.containerID ?? '';
    t.regex(id, /^docker:\/\/[0-9a-f]{64}$/);
    const mine = await containersOf(pod.metadata?.uid);
    t.deepEqual(
      mine.map((c) => c.labels['vic-kubelet.io/role']),
      ['app'],
      'no sandbox: the app container is the pod VM',
    );
    t.is(mine[0]?.labels['vic-kubelet.io/layout'], 'vm-per-pod');
    const inspect = await docker().getContainer(id.replace('docker://', '')).inspect();
    t.is(inspect.Config.Hostname, pod.metadata?.name ?? '');
    t.is(Object.values(inspect.NetworkSettings.Networks)[0]?.IPAddress, pod.status?.podIP);
  }
});

test('an exit code and its reason; restartPolicy Never fails the pod', async (t) => {
  await createPod(
    node.ns,
    'exit3',
    on({ restartPolicy: 'Never', containers: [shell('main', 'echo bye; exit 3')] }),
  );
  const pod = await podWhere(node.ns, 'exit3', 'phase Failed', (p) => p.status?.phase === 'Failed');
  const terminated = containerStatus(pod, 'main')?.state?.terminated;
  t.is(terminated?.exitCode, 3);
  t.is(terminated?.reason, 'Error');
  t.truthy(terminated?.finishedAt);
  t.is(containerStatus(pod, 'main')?.restartCount, 0);
  t.is(pod.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
  const logs = await kubectl(['logs', 'exit3', '-n', node.ns]);
  t.is(logs.stdout, 'bye\n');
});

test('restartPolicy OnFailure: success completes the pod, failure restarts it', async (t) => {
  await createPod(
    node.ns,
    'onfailure-ok',
    on({ restartPolicy: 'OnFailure', containers: [shell('main', 'exit 0')] }),
  );
  await createPod(
    node.ns,
    'onfailure-bad',
    on({ restartPolicy: 'OnFailure', containers: [shell('main', 'exit 1')] }),
  );
  const ok = await podWhere(node.ns, 'onfailure-ok', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
  t.is(containerStatus(ok, 'main')?.state?.terminated?.reason, 'Completed');
  const bad = await podWhere(
    node.ns,
    'onfailure-bad',
    'restarted',
    (p) => (containerStatus(p, 'main')?.restartCount ?? 0) >= 1,
  );
  t.not(bad.status?.phase, 'Failed');
  t.is(containerStatus(bad, 'main')?.lastState?.terminated?.exitCode, 1);
});

test('restartPolicy Always: CrashLoopBackOff, each attempt a new container VM, two kept', async (t) => {
  await createPod(
    node.ns,
    'crasher',
    on({ restartPolicy: 'Always', containers: [shell('main', 'echo crash; exit 2')] }),
  );
  const looping = await podWhere(
    node.ns,
    'crasher',
    'CrashLoopBackOff',
    (p) => containerStatus(p, 'main')?.state?.waiting?.reason === 'CrashLoopBackOff',
    90_000,
  );
  const status = containerStatus(looping, 'main');
  t.is(status?.lastState?.terminated?.exitCode, 2);
  t.true((status?.restartCount ?? 0) >= 1);
  t.is(looping.status?.phase, 'Running');
  const previous = await kubectl(['logs', 'crasher', '-n', node.ns, '--previous']);
  t.is(previous.stdout, 'crash\n');
  const mine = await containersOf(looping.metadata?.uid);
  t.true(mine.length <= 2, 'the current and the previous attempt are kept, no sandbox');
});

test('init containers run one after another as their own VMs, before the app container', async (t) => {
  await createPod(
    node.ns,
    'inits',
    on({
      initContainers: [shell('first', 'sleep 1'), shell('second', 'sleep 1')],
      containers: [shell('app', 'sleep 3600')],
    }),
  );
  const pod = await podWhere(
    node.ns,
    'inits',
    'Running',
    (p) => p.status?.phase === 'Running' && containerStatus(p, 'app')?.ready === true,
  );
  const first = containerStatus(pod, 'first')?.state?.terminated;
  const second = containerStatus(pod, 'second')?.state?.terminated;
  const app = containerStatus(pod, 'app')?.state?.running;
  t.is(first?.exitCode, 0);
  t.is(second?.exitCode, 0);
  t.true(new Date(first?.finishedAt ?? 0) <= new Date(second?.startedAt ?? 0), 'second after first');
  t.true(new Date(second?.finishedAt ?? 0) <= new Date(app?.startedAt ?? 0), 'app after second');
  t.is(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
  const mine = await containersOf(pod.metadata?.uid);
  t.deepEqual(mine.map((c) => c.labels['vic-kubelet.io/container-name']).sort(), ['app', 'first', 'second']);
});

test('a failing init container with restartPolicy Never fails the pod and the app never starts', async (t) => {
  await createPod(
    node.ns,
    'init-fails',
    on({
      restartPolicy: 'Never',
      initContainers: [shell('setup', 'exit 7')],
      containers: [shell('app', 'sleep 3600')],
    }),
  );
  const pod = await podWhere(node.ns, 'init-fails', 'Failed', (p) => p.status?.phase === 'Failed');
  t.is(containerStatus(pod, 'setup')?.state?.terminated?.exitCode, 7);
  t.is(containerStatus(pod, 'app')?.state?.waiting?.reason, 'PodInitializing');
  const mine = await containersOf(pod.metadata?.uid);
  t.false(mine.some((c) => c.labels['vic-kubelet.io/container-name'] === 'app'));
});

test('two long-running containers, or a sidecar, fail at once with the limit named and an event', async (t) => {
  await createPod(node.ns, 'two', on({ containers: [shell('a', 'sleep 3600'), shell('b', 'sleep 3600')] }));
  await createPod(
    node.ns,
    'sidecar',
    on({
      initContainers: [shell('log', 'sleep 3600', { restartPolicy: 'Always' })],
      containers: [shell('app', 'sleep 3600')],
    }),
  );
  const two = await podWhere(node.ns, 'two', 'Failed', (p) => p.status?.phase === 'Failed');
  t.is(two.status?.reason, 'UnsupportedPodSpec');
  t.is(
    two.status?.message,
    'Pod cannot run in a pod VM on this node: spec.containers (2 long-running containers; at most 1): ' +
      'this VCH runs every container as its own VM and cannot share namespaces between them (pod layout vm-per-pod)',
  );
  const events = await eventually('an UnsupportedPodSpec event', async () =>
    (await podEvents(node.ns, 'two')).find((e) => e.reason === 'UnsupportedPodSpec'),
  );
  t.is(events.type, 'Warning');
  t.is(events.message, two.status?.message);
  const sidecar = await podWhere(node.ns, 'sidecar', 'Failed', (p) => p.status?.phase === 'Failed');
  t.is(sidecar.status?.reason, 'UnsupportedPodSpec');
  t.regex(sidecar.status?.message ?? '', /spec\.initContainers\[log\]\.restartPolicy: Always \(a sidecar\)/);
  t.deepEqual(await containersOf(two.metadata?.uid), [], 'nothing half-created');
  t.deepEqual(await containersOf(sidecar.metadata?.uid), [], 'nothing half-created');
});

test('a configMap volume and the service-account token reach the container VM through a writer', async (t) => {
  await core().createNamespacedConfigMap({
    namespace: node.ns,
    body: { metadata: { name: 'settings' }, data: { greeting: 'hello from a VIC volume' } },
  });
  await createPod(
    node.ns,
    'reads-volumes',
    on({
      restartPolicy: 'Never',
      volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
      containers: [
        shell(
          'main',
          'cat /cfg/greeting; echo; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; ' +
            'test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token-present',
          { volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] },
        ),
      ],
    }),
  );
  const pod = await podWhere(node.ns, 'reads-volumes', 'finished', (p) =>
    ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
  );
  const logs = await kubectl(['logs', '-n', node.ns, 'reads-volumes']);
  t.is(pod.status?.phase, 'Succeeded', logs.stdout + logs.stderr);
  t.deepEqual(logs.stdout.trim().split('\n'), ['hello from a VIC volume', node.ns, 'token-present']);
  // The writer lives only for the write: nothing of it is left on the VCH.
  const writers = await docker().listContainers({
    all: true,
    filters: { label: ['vic-kubelet.io/volume-writer'] },
  });
  t.deepEqual(writers, []);
});

test('kubectl exec and logs -f reach the container VM', async (t) => {
  await createPod(node.ns, 'talk', on({ containers: [shell('main', 'echo started; sleep 3600')] }));
  await podWhere(node.ns, 'talk', 'Running', (p) => containerStatus(p, 'main')?.ready === true);
  const exec = await kubectl([
    'exec',
    'talk',
    '-n',
    node.ns,
    '--',
    'sh',
    '-c',
    'echo out; echo err >&2; exit 4',
  ]);
  t.is(exec.stdout, 'out\n');
  t.is(exec.stderr.split('\n')[0], 'err');
  t.is(exec.exitCode, 4);
  const follow = startKubectl(['logs', '-f', 'talk', '-n', node.ns]);
  t.teardown(() => follow.kill('SIGKILL'));
  await follow.until(/started/);
  await kubectl(['exec', 'talk', '-n', node.ns, '--', 'sh', '-c', 'echo later > /proc/1/fd/1']);
  const out = await follow.until(/later/);
  t.regex(out, /started\r?\nlater/);
});

test('kubectl attach -i talks to the main process of the container VM', async (t) => {
  await createPod(
    node.ns,
    'reader',
    on({ containers: [shell('main', 'while read l; do echo got:$l; done', { stdin: true })] }),
  );
  await podWhere(node.ns, 'reader', 'Running', (p) => containerStatus(p, 'main')?.ready === true);
  const attach = startKubectl(['attach', '-i', '-n', node.ns, 'reader']);
  t.teardown(() => attach.kill('SIGKILL'));
  attach.write('hello\n');
  await attach.until('got:hello\n');
  attach.write('world\n');
  const out = await attach.until('got:world\n');
  // Both lines reached the process, in order, each answered once.
  t.deepEqual(out.match(/got:\w+/g), ['got:hello', 'got:world']);
});

test('the kubelet stats summary has the container VM’s CPU and memory', async (t) => {
  await createPod(
    node.ns,
    'busy',
    on({ containers: [shell('main', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 3600')] }),
  );
  const pod = await podWhere(node.ns, 'busy', 'Running', (p) => containerStatus(p, 'main')?.ready === true);
  const stats = await eventually(
    'busy in /stats/summary with CPU and memory',
    async () => {
      const reply = await kubeletRequest(node.vk.port, 'GET', '/stats/summary', 'apiserver');
      const summary = JSON.parse(reply.body) as {
        pods?: {
          podRef: { uid: string };
          containers?: {
            name: string;
            cpu?: { usageCoreNanoSeconds?: number };
            memory?: { workingSetBytes?: number };
          }[];
        }[];
      };
      const main = summary.pods
        ?.find((p) => p.podRef.uid === pod.metadata?.uid)
        ?.containers?.find((c) => c.name === 'main');
      return main?.cpu?.usageCoreNanoSeconds && main.memory?.workingSetBytes ? main : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1000 },
  );
  t.true((stats.cpu?.usageCoreNanoSeconds ?? 0) > 0);
  t.true((stats.memory?.workingSetBytes ?? 0) > 0);
});

test('kubectl port-forward reaches a port of the container VM', async (t) => {
  await createPod(
    node.ns,
    'httpd',
    on({
      containers: [
        shell('httpd', 'mkdir -p /www && echo hello-vic > /www/index.html && exec httpd -f -p 8080 -h /www', {
          ports: [{ containerPort: 8080 }],
        }),
      ],
    }),
  );
  await podWhere(node.ns, 'httpd', 'Running', (p) => containerStatus(p, 'httpd')?.ready === true);
  const forward = startKubectl(['port-forward', '-n', node.ns, 'pod/httpd', ':8080']);
  t.teardown(() => forward.kill('SIGKILL'));
  const port = Number(
    /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(
      await forward.until(/Forwarding from 127\.0\.0\.1:\d+ -> 8080/),
    )?.[1],
  );
  const body = await new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/index.html', agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    }).on('error', reject);
  });
  t.is(body, 'hello-vic\n');
});

test('kubectl delete stops the container VM within its grace period and removes it', async (t) => {
  await createPod(
    node.ns,
    'stubborn',
    on({
      terminationGracePeriodSeconds: 3,
      containers: [shell('main', 'trap "" TERM; while true; do sleep 1; done')],
    }),
  );
  const pod = await podWhere(node.ns, 'stubborn', 'Running', (p) => p.status?.phase === 'Running');
  const started = Date.now();
  const result = await kubectl(['delete', 'pod', 'stubborn', '-n', node.ns, '--wait=true', '--timeout=60s']);
  t.is(result.exitCode, 0, result.stderr);
  t.true(Date.now() - started >= 3000, 'the grace period was honoured');
  t.deepEqual(await containersOf(pod.metadata?.uid), []);
  t.true((await podEvents(node.ns, 'stubborn')).some((e) => e.reason === 'Killing'));
});

test.serial(
  'a restart of vic-kubelet adopts vm-per-pod pod VMs from their labels, restarting nothing',
  async (t) => {
    await createPod(
      node.ns,
      'adopted',
      on({ initContainers: [shell('init', 'true')], containers: [shell('main', 'sleep 3600')] }),
    );
    const before = await podWhere(
      node.ns,
      'adopted',
      'Running',
      (p) => containerStatus(p, 'main')?.ready === true,
    );
    t.is(await node.vk.stop('SIGKILL'), 'SIGKILL');
    const kept = await containersOf(before.metadata?.uid);
    node.vk.spawn();
    await node.vk.waitReady();
    // The new process syncs the pod once; a patch would change nothing that matters here.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const after = await core().readNamespacedPod({ name: 'adopted', namespace: node.ns });
    t.is(after.status?.phase, 'Running');
    t.is(containerStatus(after, 'main')?.containerID, containerStatus(before, 'main')?.containerID);
    t.is(containerStatus(after, 'main')?.restartCount, 0);
    t.is(containerStatus(after, 'init')?.state?.terminated?.exitCode, 0);
    t.is(after.status?.podIP, before.status?.podIP);
    t.deepEqual(
      (await containersOf(before.metadata?.uid)).map((c) => c.id).sort(),
      kept.map((c) => c.id).sort(),
      'no container made or removed',
    );
  },
);
