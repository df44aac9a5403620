// Persistent volumes on the VCH's volume store, through the real scheduler, PV controller, Docker
// engine and vic-kubelet's own provisioner: a StatefulSet's data outlives its pod; reclaim Delete
// removes the VCH volume and Retain keeps it; a second pod asking for a ReadWriteOnce claim waits
// with the Multi-Attach reason until the first is gone; a restart adopts volumes without making more.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import test from 'ava';
import {
  docker,
  eventually,
  kubeConfig,
  kubectl,
  testEnv,
  testNamespace,
  uniqueName,
} from '../support/env.js';
import { core, createPod, podEvents, podOn, podWhere, shell } from '../support/pods.js';
import { VicKubelet } from '../support/vic-kubelet.js';

// The node's start under a loaded CI machine can take more than the usual minute (tsx compiles first).
let vk: VicKubelet | undefined;
let namespace: Awaited<ReturnType<typeof testNamespace>> | undefined;
test.serial.before(async () => {
  vk = await VicKubelet.start();
  namespace = await testNamespace(kubeConfig(), 'vk-pv');
  await vk.waitReady(180_000);
});
test.after.always(async () => {
  if (vk && process.env.VK_E2E_LOG_DIR)
    writeFileSync(`${process.env.VK_E2E_LOG_DIR}/${vk.nodeName}.log`, vk.output());
  await namespace?.cleanup();
  await vk?.cleanup();
});
const node = {
  get vk(): VicKubelet {
    if (!vk) throw new Error('the virtual node is used before test.before ran');
    return vk;
  },
  get ns(): string {
    if (!namespace) throw new Error('the namespace is used before test.before ran');
    return namespace.name;
  },
};
const on = (spec: Parameters<typeof podOn>[1]) => podOn(node.vk.nodeName, spec);
const retainClass = uniqueName('vk-e2e-retain');
const deleteClass = 'vic-default';

test.serial.before(async () => {
  const applied = await kubectl(['apply', '-f', join(testEnv.root, 'deploy/storageclass.yaml')]);
  if (applied.exitCode !== 0) throw new Error(`apply deploy/storageclass.yaml: ${applied.stderr}`);
  await kubeConfig()
    .makeApiClient(k8s.StorageV1Api)
    .createStorageClass({
      body: {
        metadata: { name: retainClass },
        provisioner: 'vic-kubelet.io/vch-volume',
        parameters: { volumeStore: 'default' },
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'WaitForFirstConsumer',
      },
    });
});

test.after.always(async () => {
  await kubeConfig()
    .makeApiClient(k8s.StorageV1Api)
    .deleteStorageClass({ name: retainClass })
    .catch(() => undefined);
  // Retained (and released) PVs of this node outlive the namespace: they go here.
  const pvs = await core().listPersistentVolume({ labelSelector: `vic-kubelet.io/node=${node.vk.nodeName}` });
  for (const pv of pvs.items) {
    await core()
      .deletePersistentVolume({ name: pv.metadata?.name ?? '' })
      .catch(() => undefined);
  }
});

function claim(name: string, storageClassName: string, size = '16Mi'): k8s.V1PersistentVolumeClaim {
  return {
    metadata: { name },
    spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  };
}

async function createClaim(body: k8s.V1PersistentVolumeClaim): Promise<void> {
  await core().createNamespacedPersistentVolumeClaim({ namespace: node.ns, body });
}

async function boundVolume(name: string): Promise<k8s.V1PersistentVolume> {
  let last: k8s.V1PersistentVolumeClaim | undefined;
  const pvName = await eventually(
    `claim ${name} Bound`,
    async () => {
      last = await core().readNamespacedPersistentVolumeClaim({ name, namespace: node.ns });
      return last.status?.phase === 'Bound' ? last.spec?.volumeName : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500, lastSeen: () => last },
  );
  return core().readPersistentVolume({ name: pvName });
}

/** The VCH volume of that name, or undefined when the engine has none. */
async function vchVolume(
  name: string,
): Promise<{ Name: string; Labels: Record<string, string> } | undefined> {
  try {
    return await docker().getVolume(name).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

async function storeVolumes(): Promise<string[]> {
  const list = await docker().listVolumes({
    filters: { label: [`vic-kubelet.io/node=${node.vk.nodeName}`, 'vic-kubelet.io/store-volume'] },
  });
  return (list.Volumes ?? []).map((v) => v.Name).sort();
}

async function logsOf(pod: string): Promise<string> {
  return eventually(
    `log of ${pod}`,
    async () => {
      const text = await core().readNamespacedPodLog({ name: pod, namespace: node.ns });
      return text.trim() ? text : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

async function running(name: string, notUid?: string): Promise<k8s.V1Pod> {
  return podWhere(
    node.ns,
    name,
    notUid ? 'Running (a new pod)' : 'Running',
    (p) => p.status?.phase === 'Running' && p.metadata?.uid !== notUid,
    120_000,
  );
}

async function deletePod(name: string): Promise<void> {
  await core().deleteNamespacedPod({ name, namespace: node.ns, gracePeriodSeconds: 1 });
  const gone = await kubectl(['wait', '--for=delete', `pod/${name}`, '-n', node.ns, '--timeout=90s']);
  if (gone.exitCode !== 0) throw new Error(`pod ${name} not deleted: ${gone.stderr}`);
}

async function waitGone(what: string, probe: () => Promise<unknown>): Promise<void> {
  let seen: unknown;
  await eventually(
    what,
    async () => {
      seen = await probe();
      return seen === undefined ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, lastSeen: () => seen },
  );
}

async function readVolumeObject(name: string): Promise<k8s.V1PersistentVolume | undefined> {
  return core()
    .readPersistentVolume({ name })
    .catch((err: unknown) => {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw err;
    });
}

test.serial(
  'a StatefulSet keeps its data when its pod is recreated; deleting the claim (Delete) removes the VCH volume',
  async (t) => {
    t.timeout(6 * 60_000);
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const script =
      '[ -f /data/token ] || cat /proc/sys/kernel/random/uuid > /data/token; cat /data/token; sleep 3600';
    await apps.createNamespacedStatefulSet({
      namespace: node.ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          serviceName: 'web',
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: on({
              containers: [shell('main', script, { volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
            }),
          },
          volumeClaimTemplates: [claim('data', deleteClass, '64Mi')],
        },
      },
    });
    const first = await running('web-0');
    const pv = await boundVolume('data-web-0');
    const pvName = pv.metadata?.name ?? '';
    t.is(pv.spec?.persistentVolumeReclaimPolicy, 'Delete');
    const affinity = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions ?? [];
    t.deepEqual(
      affinity.map((e) => ({ ...e })),
      [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node.vk.nodeName] }],
    );
    t.is(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'vic-kubelet.io/vch-volume');
    const onEngine = await vchVolume(pvName);
    t.truthy(onEngine, `VCH volume ${pvName} exists`);
    // The local driver takes no size: the request is recorded on the volume.
    t.is(onEngine?.Labels['vic-kubelet.io/requested-bytes'], String(64 * 2 ** 20));
    const token = (await logsOf('web-0')).trim();
    t.regex(token, /^[0-9a-f-]{36}$/);

    await core().deleteNamespacedPod({ name: 'web-0', namespace: node.ns, gracePeriodSeconds: 1 });
    await running('web-0', first.metadata?.uid);
    t.is((await logsOf('web-0')).trim(), token, 'the recreated pod reads what the first one wrote');
    t.truthy(await vchVolume(pvName), 'the VCH volume outlives the pod');

    await apps.deleteNamespacedStatefulSet({ name: 'web', namespace: node.ns });
    await kubectl(['wait', '--for=delete', 'pod/web-0', '-n', node.ns, '--timeout=90s']);
    await core().deleteNamespacedPersistentVolumeClaim({ name: 'data-web-0', namespace: node.ns });
    await waitGone(`VCH volume ${pvName} removed`, () => vchVolume(pvName));
    await waitGone(`PV ${pvName} deleted`, () => readVolumeObject(pvName));
    t.is(await vchVolume(pvName), undefined, 'the VCH volume stays removed');
    t.is(await readVolumeObject(pvName), undefined, 'the PV stays deleted');
  },
);

test.serial(
  'a second pod asking for a ReadWriteOnce claim waits with the Multi-Attach reason, then starts read-only once the first is gone',
  async (t) => {
    t.timeout(5 * 60_000);
    await createClaim(claim('shared', deleteClass));
    const mount = { volumeMounts: [{ name: 'data', mountPath: '/data' }] };
    await createPod(node.ns, 'first', {
      ...on({ containers: [shell('main', 'echo from-first > /data/f; sleep 3600', mount)] }),
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'shared' } }],
    });
    await running('first');
    const pv = await boundVolume('shared');
    await createPod(node.ns, 'second', {
      ...on({
        containers: [
          shell('main', 'cat /data/f; (touch /data/x && echo writable) || echo read-only; sleep 3600', mount),
        ],
      }),
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'shared', readOnly: true } }],
    });
    let events: k8s.CoreV1Event[] = [];
    const waiting = await eventually(
      'second pod told the volume is in use',
      async () => {
        events = await podEvents(node.ns, 'second');
        return events.find((e) => e.reason === 'FailedAttachVolume');
      },
      { timeoutMs: 60_000, intervalMs: 500, lastSeen: () => events.map((e) => `${e.reason}: ${e.message}`) },
    );
    t.is(waiting.type, 'Warning');
    t.is(
      waiting.message,
      `Multi-Attach error for volume "${pv.metadata?.name}" Volume is already used by pod(s) first`,
    );
    const second = await core().readNamespacedPod({ name: 'second', namespace: node.ns });
    t.is(second.status?.phase, 'Pending');
    t.is(second.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');

    await deletePod('first');
    await running('second');
    const out = await logsOf('second');
    t.regex(out, /from-first/, 'the same volume: it holds what the first pod wrote');
    t.regex(out, /read-only/, 'readOnly on the claim volume is honoured');
    t.notRegex(out, /writable/);
  },
);

test.serial('reclaim Retain keeps the PV and the VCH volume when the claim is deleted', async (t) => {
  t.timeout(4 * 60_000);
  await createClaim(claim('kept', retainClass));
  await createPod(node.ns, 'keeper', {
    ...on({
      containers: [
        shell('main', 'echo kept > /data/k; sleep 3600', {
          volumeMounts: [{ name: 'd', mountPath: '/data' }],
        }),
      ],
    }),
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'kept' } }],
  });
  await running('keeper');
  const pvName = (await boundVolume('kept')).metadata?.name ?? '';
  await deletePod('keeper');
  await core().deleteNamespacedPersistentVolumeClaim({ name: 'kept', namespace: node.ns });
  let pv: k8s.V1PersistentVolume | undefined;
  await eventually(
    `PV ${pvName} Released`,
    async () => {
      pv = await readVolumeObject(pvName);
      return pv?.status?.phase === 'Released' ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, lastSeen: () => pv?.status },
  );
  // The provisioner acts on the Released update within a moment (the Delete test above shows it);
  // a few seconds later a Retain volume must still be there.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  t.truthy(await readVolumeObject(pvName), 'the PV stays');
  t.truthy(await vchVolume(pvName), 'the VCH volume stays');
});

test.serial(
  'a restart of vic-kubelet adopts its volumes: the pod keeps its volume, none is made twice',
  async (t) => {
    t.timeout(5 * 60_000);
    await createClaim(claim('adopted', deleteClass));
    await createPod(node.ns, 'holder', {
      ...on({
        containers: [
          shell('main', 'echo adopted > /data/a; sleep 3600', {
            volumeMounts: [{ name: 'd', mountPath: '/data' }],
          }),
        ],
      }),
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'adopted' } }],
    });
    const before = await running('holder');
    const pvName = (await boundVolume('adopted')).metadata?.name ?? '';
    const volumesBefore = await storeVolumes();
    t.true(volumesBefore.includes(pvName));

    await node.vk.stop('SIGKILL');
    node.vk.spawn();
    await node.vk.waitReady();
    // A claim made after the restart is provisioned by the new process: it has synced by then.
    await createClaim(claim('after', deleteClass));
    await createPod(node.ns, 'later', {
      ...on({
        containers: [shell('main', 'sleep 3600', { volumeMounts: [{ name: 'd', mountPath: '/data' }] })],
      }),
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'after' } }],
    });
    await running('later');
    const afterName = (await boundVolume('after')).metadata?.name ?? '';

    const pod = await core().readNamespacedPod({ name: 'holder', namespace: node.ns });
    t.is(pod.status?.phase, 'Running');
    t.is(
      pod.status?.containerStatuses?.[0]?.containerID,
      before.status?.containerStatuses?.[0]?.containerID,
      'the pod keeps its container',
    );
    t.is((await boundVolume('adopted')).metadata?.name, pvName, 'the claim keeps its PV');
    t.deepEqual(
      await storeVolumes(),
      [...volumesBefore, afterName].sort(),
      'one new volume, none duplicated',
    );
  },
);

test.serial(
  'fsGroup: a non-root pod owns its claim’s root (group fsGroup, setgid) and can write there',
  async (t) => {
    t.timeout(4 * 60_000);
    await createClaim(claim('owned', deleteClass));
    // Without fsGroup a new volume's root is root's 0755 and uid 1000 could not write: the point of fsGroup.
    const script = 'stat -c "%a %g" /data; touch /data/written && echo wrote; sleep 3600';
    await createPod(
      node.ns,
      'owner',
      on({
        securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 },
        containers: [shell('main', script, { volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'owned' } }],
      }),
    );
    await running('owner');
    const lines = (await logsOf('owner')).trim().split('\n');
    t.deepEqual(lines, ['2775 2000', 'wrote']);
  },
);
