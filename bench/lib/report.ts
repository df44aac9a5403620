// The bench's one output: rows of (our figure, the raw engine's floor measured in the same run, their
// ratio, the target if it has one), printed as a table and written as JSON under
// bench/results/. Targets are reported, never asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverage } from './proc.js';
import { ratio } from './stats.js';

export interface Target {
  /** What the issue asks, in words: "p50 ≤ 1.3x floor". */
  text: string;
  met: (row: { ours: number; floor?: number; ratio: number }) => boolean;
}

export interface Row {
  scenario: string;
  figure: string;
  unit: string;
  ours: number;
  floor?: number;
  ratio: number;
  n?: number;
  target?: string;
  met?: boolean;
  /** The 1/5/15 min load averages when the row was measured. */
  load: string;
  note?: string;
  /** API requests behind the figure, by "verb resource", in the figure's unit (per pod, per pod and minute). */
  requests?: Record<string, number>;
}

export interface RowInput {
  figure: string;
  unit: string;
  ours: number;
  floor?: number;
  n?: number;
  target?: Target;
  note?: string;
  requests?: Record<string, number>;
}

export const targets = {
  ratioAtMost: (limit: number, what = 'floor'): Target => ({
    text: `≤ ${limit}x ${what}`,
    met: (r) => Number.isFinite(r.ratio) && r.ratio <= limit,
  }),
  ratioAtLeast: (limit: number): Target => ({
    text: `≥ ${Math.round(limit * 100)}% of floor`,
    met: (r) => Number.isFinite(r.ratio) && r.ratio >= limit,
  }),
  below: (limit: number, unit: string): Target => ({
    text: `< ${limit} ${unit}`,
    met: (r) => r.ours < limit,
  }),
  atMost: (limit: number, unit: string): Target => ({
    text: `≤ ${limit} ${unit}`,
    met: (r) => r.ours <= limit,
  }),
};

export class Report {
  readonly rows: Row[] = [];
  readonly started = new Date();
  #extra: Record<string, unknown> = {};

  /** Run facts written beside the rows (version, scale, load); the JSON is rewritten after every row. */
  describe(extra: Record<string, unknown>): void {
    this.#extra = { ...this.#extra, ...extra };
  }

  /** Adds one row to a scenario and prints it at once, so an interrupted run still shows its figures. */
  add(scenario: string, input: RowInput): Row {
    const r = ratio(input.ours, input.floor);
    const row: Row = {
      scenario,
      figure: input.figure,
      unit: input.unit,
      ours: input.ours,
      ...(input.floor !== undefined ? { floor: input.floor } : {}),
      ratio: r,
      ...(input.n !== undefined ? { n: input.n } : {}),
      ...(input.target
        ? {
            target: input.target.text,
            met: input.target.met({ ours: input.ours, floor: input.floor, ratio: r }),
          }
        : {}),
      load: loadAverage(),
      ...(input.note ? { note: input.note } : {}),
      ...(input.requests ? { requests: input.requests } : {}),
    };
    this.rows.push(row);
    console.log(`  [${scenario}] ${formatLine(row)}`);
    this.write(this.#extra);
    return row;
  }

  table(): string {
    const header = ['scenario', 'figure', 'ours', 'raw floor', 'ratio', 'target', 'met', 'load'];
    const body = this.rows.map((r) => [
      r.scenario,
      r.figure + (r.n !== undefined ? ` (n=${r.n})` : ''),
      `${fmt(r.ours)} ${r.unit}`,
      r.floor === undefined ? '' : `${fmt(r.floor)} ${r.unit}`,
      Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '',
      r.target ?? '',
      r.met === undefined ? '' : r.met ? 'yes' : 'NO',
      r.load.split(' ')[0] ?? '',
    ]);
    const lines = [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
    return lines.join('\n');
  }

  /** Writes bench/results/<ISO time>.json and returns its path. */
  write(extra: Record<string, unknown> = {}): string {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${this.started.toISOString().replace(/[:.]/g, '-')}.json`);
    const body = {
      started: this.started.toISOString(),
      finished: new Date().toISOString(),
      machine: {
        hostname: hostname(),
        cpus: cpus().length,
        model: cpus()[0]?.model,
        memoryMiB: totalmem() / 2 ** 20,
      },
      ...this.#extra,
      ...extra,
      rows: this.rows,
    };
    writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
    return file;
  }
}

export function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatLine(r: Row): string {
  let line = `${r.figure}: ${fmt(r.ours)} ${r.unit}`;
  if (r.floor !== undefined) line += `, raw ${fmt(r.floor)} ${r.unit}, ratio ${fmt(r.ratio)}`;
  if (r.n !== undefined) line += ` (n=${r.n})`;
  if (r.target) line += ` [target ${r.target}: ${r.met ? 'met' : 'NOT met'}]`;
  return `${line} (load ${r.load})`;
}
