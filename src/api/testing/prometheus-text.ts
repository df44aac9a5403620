// A small parser of the Prometheus text format for tests: families with their type and help, samples with
// labels, value and timestamp.
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface ParsedExposition {
  help: Map<string, string>;
  types: Map<string, string>;
  samples: ParsedSample[];
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): ParsedExposition {
  const parsed: ParsedExposition = { help: new Map(), types: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name = '', rest = ''] = comment;
      (kind === 'HELP' ? parsed.help : parsed.types).set(name, rest);
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const [, name = '', labelText = '', value = '', timestamp] = match;
    const labels: Record<string, string> = {};
    for (const [, key = '', raw = ''] of labelText.matchAll(labelPair)) {
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    parsed.samples.push({
      name,
      labels,
      value: Number(value),
      ...(timestamp === undefined ? {} : { timestamp: Number(timestamp) }),
    });
  }
  return parsed;
}
