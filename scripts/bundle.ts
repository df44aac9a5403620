// The second step of `npm run build`: the daemon's entry, dist/src/cli/vic-kubelet.js as tsc wrote
// it, is replaced in place by one bundle of it and everything it imports, whitespace and syntax
// minified (names kept, so stack traces stay readable), with a source map beside it.
//
// Why: a running Node.js keeps the source text of every module it loaded. A heap snapshot of an idle
// node (issue 15) put 24 MiB of its 55 MiB heap in module source, most of it
// @kubernetes/client-node's generated API and model files with their doc comments. The bundle
// loads 5.4 MiB of source instead, and the idle node's resident memory fell from 115-123 MiB to
// 88 MiB, side by side against the same control plane. The path stays the same, so the bin entry,
// the image, vic-machine and the compiled-build tests all run the bundle.
//
// Only the daemon is bundled: vic-machine is a short-lived command, and its supervisor is small.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/src/cli/vic-kubelet.js');

await build({
  entryPoints: [entry],
  outfile: entry,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  // Native add-ons cannot be bundled. ssh2 is never loaded (src/vch/without-ssh.ts puts a stub in
  // require's cache), and cpu-features is ssh2's own optional dependency.
  external: ['ssh2', 'cpu-features'],
  // CommonJS dependencies call require(); an ES module has none, so the bundle makes one.
  banner: {
    js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);",
  },
  logLevel: 'warning',
});
