// What a V8 heap snapshot holds: shallow size and count per constructor, the top entries.
// Usage: npx tsx bench/tools/heap-summary.ts FILE.heapsnapshot [TOP]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: heap-summary.ts FILE [TOP]');
const top = Number(process.argv[3] ?? 25);
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const stride = fields.length;
const typeAt = fields.indexOf('type');
const nameAt = fields.indexOf('name');
const sizeAt = fields.indexOf('self_size');
const types = snap.snapshot.meta.node_types[0];
const bySize = new Map<string, { size: number; count: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += stride) {
  const type = types[snap.nodes[i + typeAt]!] ?? '?';
  const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`;
  const size = snap.nodes[i + sizeAt]!;
  const entry = bySize.get(name) ?? { size: 0, count: 0 };
  entry.size += size;
  entry.count += 1;
  bySize.set(name, entry);
  total += size;
}
console.log(`heap: ${(total / 2 ** 20).toFixed(1)} MiB in ${snap.nodes.length / stride} objects`);
for (const [name, e] of [...bySize].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
  console.log(
    `${(e.size / 2 ** 20).toFixed(2).padStart(8)} MiB ${String(e.count).padStart(8)}  ${name.slice(0, 100)}`,
  );
}
