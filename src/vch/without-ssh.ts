// docker-modem (under dockerode) loads `ssh2` as soon as it is loaded itself, for `ssh://` Docker
// hosts, and ssh2 instantiates an emscripten WebAssembly module with 16 MiB of memory at load. A heap
// snapshot of an idle vic-kubelet showed that buffer as its largest single object (issue 15). This
// node never speaks ssh to a VCH (client.ts accepts unix://, tcp:// and https:// only), so ssh2 is
// put in require's cache as a module whose client refuses, before dockerode is loaded: client.ts
// imports this module first, and is the one module that loads dockerode.
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

class RefusingSshClient {
  constructor() {
    throw new Error('vic-kubelet does not connect to a VCH over ssh://; use unix://, tcp:// or https://');
  }
}

function withoutSsh2(): void {
  let path: string;
  try {
    // ssh2 as docker-modem resolves it (its own dependency, wherever npm placed it).
    path = require.resolve('ssh2', { paths: [dirname(require.resolve('docker-modem'))] });
  } catch {
    return; // no ssh2 installed: nothing would load it
  }
  if (require.cache[path]) return;
  const stub = new Module(path);
  stub.filename = path;
  stub.loaded = true;
  stub.exports = { Client: RefusingSshClient };
  require.cache[path] = stub;
}

withoutSsh2();
