import test from 'ava';
import type { V1Node } from '@kubernetes/client-node';
import { describeInspection, type Inspection } from './admin.js';
import { describeVch, vchView } from './node-view.js';

// The annotation as vic-kubelet writes it (abilities.ts profileSummary) for a VIC VCH with an override.
const annotated: V1Node = {
  metadata: {
    annotations: {
      'vic-kubelet.io/vch-abilities': JSON.stringify({
        product: 'vic',
        name: 'vSphere Integrated Containers v1.5.6 Backend Engine',
        version: '1.5.6',
        apiVersion: '1.25',
        layout: 'vm-per-pod',
        abilities: { sharedNamespaces: false, exec: true, events: false, archives: true },
        overridden: ['events'],
      }),
    },
  },
};

test('the Node’s abilities annotation is read into a view and described on one line', (t) => {
  const view = vchView(annotated);
  t.like(view, { product: 'vic', version: '1.5.6', layout: 'vm-per-pod', overridden: ['events'] });
  t.deepEqual(view?.abilities, { sharedNamespaces: false, exec: true, events: false, archives: true });
  t.is(
    describeVch(view!),
    'layout vm-per-pod on vSphere Integrated Containers v1.5.6 Backend Engine 1.5.6; can: exec, archives; ' +
      'cannot: sharedNamespaces, events; set by the operator: events',
  );
});

test('no annotation, or one that is not JSON, is no view', (t) => {
  t.is(vchView({}), undefined);
  t.is(vchView({ metadata: { annotations: { 'vic-kubelet.io/vch-abilities': 'not json' } } }), undefined);
});

test('vic-machine inspect prints the abilities row', (t) => {
  const inspection: Inspection = {
    name: 'vk-1',
    stateDir: '/state',
    version: { vicMachine: '0.1.0', createdWith: '0.1.0' },
    vch: { target: 'unix:///x', reachable: false, problem: 'down' },
    apiServer: 'https://127.0.0.1:6443',
    kubeletPort: 10250,
    process: { running: false, restarts: 0 },
    node: { state: 'Ready', vch: vchView(annotated)! },
    logs: { kubelet: '/k.log', supervisor: '/s.log' },
  };
  t.regex(
    describeInspection(inspection),
    /^Abilities: {4}layout vm-per-pod on .*cannot: sharedNamespaces, events/m,
  );
  t.regex(
    describeInspection({ ...inspection, node: { state: 'absent' } }),
    /^Abilities: {4}unknown \(the Node does not say yet\)$/m,
  );
});
