import test from 'ava';
import { storageClasses, storageClassName, storeName } from './storage-classes.js';

test('--volume-store takes the original tool form datastore/path:label, or a bare name', (t) => {
  t.is(storeName('datastore1/volumes:fast'), 'fast');
  t.is(storeName('nfs://10.0.0.1/export:shared'), 'shared');
  t.is(storeName('default'), 'default');
});

test('one StorageClass vic-<store> per store, WaitForFirstConsumer, no expansion, naming its store', (t) => {
  const classes = storageClasses(['default', 'Fast_SSD']);
  t.deepEqual(
    classes.map((c) => c.metadata.name),
    ['vic-default', storageClassName('Fast_SSD')],
  );
  t.is(storageClassName('Fast_SSD'), 'vic-fast-ssd');
  const fast = classes[1] as Record<string, unknown>;
  t.is(fast.provisioner, 'vic-kubelet.io/vch-volume');
  t.is(fast.volumeBindingMode, 'WaitForFirstConsumer');
  t.is(fast.allowVolumeExpansion, false);
  t.deepEqual(fast.parameters, { volumeStore: 'Fast_SSD' });
});
