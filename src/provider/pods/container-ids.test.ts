import test from 'ava';
import { dockerIdOf, kubeContainerId, kubeImageId } from './container-ids.js';

test('container IDs are written docker://<id> as dockershim did, and read back', (t) => {
  t.is(kubeContainerId('abc123'), 'docker://abc123');
  t.is(dockerIdOf('docker://abc123'), 'abc123');
  t.is(dockerIdOf('containerd://abc123'), undefined);
  t.is(dockerIdOf(undefined), undefined);
});

test('image IDs are docker-pullable:// with a registry digest, else docker://sha256', (t) => {
  const id = `sha256:${'c'.repeat(64)}`;
  const digest = `sha256:${'d'.repeat(64)}`;
  t.is(kubeImageId({ imageId: id }), `docker://${id}`);
  t.is(
    kubeImageId({ imageId: id, repoDigest: `127.0.0.1:15000/vic/busybox@${digest}` }),
    `docker-pullable://127.0.0.1:15000/vic/busybox@${digest}`,
  );
});
