import test, { type ExecutionContext } from 'ava';
import { VicError } from '../../shared/errors.js';
import { parseLogOptions } from './log-options.js';

function invalidMessage(t: ExecutionContext, query: Record<string, string | string[]>): string {
  const err = t.throws(() => parseLogOptions(query), { instanceOf: VicError });
  return `${err?.code}: ${err?.message}`;
}

test('no query gives the defaults', (t) => {
  t.deepEqual(parseLogOptions({}), { follow: false, previous: false, timestamps: false });
});

test('every PodLogOptions field is read', (t) => {
  const options = parseLogOptions({
    follow: 'true',
    previous: 'false',
    timestamps: '1',
    sinceTime: '2024-05-01T12:00:00.5+02:00',
    tailLines: '10',
    limitBytes: '4096',
    stream: 'All',
  });
  t.deepEqual(options, {
    follow: true,
    previous: false,
    timestamps: true,
    sinceTime: new Date('2024-05-01T10:00:00.500Z'),
    tailLines: 10,
    limitBytes: 4096,
    stream: 'All',
  });
  t.is(parseLogOptions({ sinceSeconds: '30' }).sinceSeconds, 30);
  t.is(parseLogOptions({ stream: 'Stderr' }).stream, 'Stderr');
});

test('booleans follow Go: a bare key is true, 0/f/false are false', (t) => {
  t.true(parseLogOptions({ follow: '' }).follow);
  t.true(parseLogOptions({ follow: 'T' }).follow);
  t.false(parseLogOptions({ follow: 'F' }).follow);
  t.false(parseLogOptions({ follow: '0' }).follow);
});

test('the legacy tail parameter sets tailLines, tail=all clears it', (t) => {
  t.is(parseLogOptions({ tail: '5' }).tailLines, 5);
  t.is(parseLogOptions({ tail: 'all', tailLines: '3' }).tailLines, undefined);
});

test('a repeated parameter takes its last value', (t) => {
  t.is(parseLogOptions({ tailLines: ['1', '7'] }).tailLines, 7);
});

test('malformed values are Invalid with a message naming the field', (t) => {
  t.regex(invalidMessage(t, { follow: 'yes' }), /^Invalid: .*follow="yes" is not a boolean/);
  t.regex(invalidMessage(t, { tailLines: 'ten' }), /tailLines="ten" is not an integer/);
  t.regex(invalidMessage(t, { tailLines: '1.5' }), /tailLines="1.5" is not an integer/);
  t.regex(invalidMessage(t, { tailLines: '-1' }), /tailLines must be zero or more/);
  t.regex(invalidMessage(t, { limitBytes: '0' }), /limitBytes must be at least 1/);
  t.regex(invalidMessage(t, { sinceSeconds: '0' }), /sinceSeconds must be at least 1/);
  t.regex(invalidMessage(t, { sinceSeconds: '99999999999999999999' }), /sinceSeconds=.* is not an integer/);
  t.regex(invalidMessage(t, { sinceTime: 'yesterday' }), /sinceTime="yesterday" is not an RFC3339 time/);
  t.regex(invalidMessage(t, { sinceTime: '2024-05-01' }), /sinceTime=.* is not an RFC3339 time/);
  t.regex(invalidMessage(t, { sinceTime: '2024-13-45T99:00:00Z' }), /is not an RFC3339 time/);
  t.regex(invalidMessage(t, { stream: 'stdout' }), /stream="stdout" must be one of All, Stdout, Stderr/);
});

test('contradictory options are Invalid', (t) => {
  t.regex(
    invalidMessage(t, { sinceSeconds: '10', sinceTime: '2024-05-01T12:00:00Z' }),
    /at most one of sinceSeconds or sinceTime/,
  );
  t.regex(
    invalidMessage(t, { stream: 'Stdout', tailLines: '3' }),
    /tailLines cannot be combined with stream=Stdout/,
  );
});
