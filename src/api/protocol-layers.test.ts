// The wire protocols (spdy, websocket, transport) sit below the streaming glue: none of their files
// imports from src/api/streaming, so the two never import each other.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const here = dirname(fileURLToPath(import.meta.url));

function importsOf(folder: string): Array<{ file: string; from: string }> {
  const dir = join(here, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) =>
      [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => ({
        file: `${folder}/${file}`,
        from: m[1] ?? '',
      })),
    );
}

test('no file of the SPDY, WebSocket or transport layers imports the streaming glue', (t) => {
  const upward = ['spdy', 'websocket', 'transport']
    .flatMap(importsOf)
    .filter((i) => i.from.includes('/streaming/'));
  t.deepEqual(upward, []);
});

test('the streaming glue does import the protocols it joins (the check above looks at real imports)', (t) => {
  const down = importsOf('streaming').filter((i) => i.from.startsWith('../spdy/'));
  t.true(down.length > 0);
});
