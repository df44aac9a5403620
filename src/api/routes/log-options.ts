// PodLogOptions from the query string of /containerLogs, validated the way the kubelet and the API
// server validate them, with a message that names the field a user got wrong.
import type { LogOptions } from '../../provider/kubelet-api.js';
import { VicError } from '../../shared/errors.js';

export type Query = Record<string, string | string[] | undefined>;

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const integer = /^[+-]?\d+$/;
const streams = ['All', 'Stdout', 'Stderr'] as const;

function invalid(message: string): VicError {
  return new VicError('Invalid', `invalid log options: ${message}`);
}

/** The last value of a repeated parameter, as Go's query decoding keeps it. */
function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function bool(query: Query, name: string): boolean {
  const raw = single(query, name);
  if (raw === undefined) return false;
  const value = raw.toLowerCase();
  // `?follow` alone means true, as in Go's parameter codec.
  if (value === '' || value === 'true' || value === '1' || value === 't') return true;
  if (value === 'false' || value === '0' || value === 'f') return false;
  throw invalid(`${name}=${JSON.stringify(raw)} is not a boolean (use true or false)`);
}

function int(query: Query, name: string, min: number): number | undefined {
  const raw = single(query, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!integer.test(raw) || !Number.isSafeInteger(value)) {
    throw invalid(`${name}=${JSON.stringify(raw)} is not an integer`);
  }
  if (value < min) throw invalid(`${name} must be ${min === 0 ? 'zero or more' : `at least ${min}`}`);
  return value;
}

function time(query: Query, name: string): Date | undefined {
  const raw = single(query, name);
  if (raw === undefined) return undefined;
  const value = new Date(raw);
  if (!rfc3339.test(raw) || Number.isNaN(value.getTime())) {
    throw invalid(`${name}=${JSON.stringify(raw)} is not an RFC3339 time (like 2024-05-01T12:00:00Z)`);
  }
  return value;
}

function stream(query: Query): LogOptions['stream'] {
  const raw = single(query, 'stream');
  if (raw === undefined) return undefined;
  const found = streams.find((s) => s === raw);
  if (!found) throw invalid(`stream=${JSON.stringify(raw)} must be one of ${streams.join(', ')}`);
  return found;
}

/** Parses and validates the query; throws a VicError('Invalid') that the server turns into a 400. */
export function parseLogOptions(query: Query): LogOptions {
  const q: Query = { ...query };
  // The kubelet still takes the old `tail` parameter; `tail=all` is the same as no limit.
  const tail = single(q, 'tail');
  if (tail !== undefined) {
    if (tail === 'all') delete q.tailLines;
    else q.tailLines = tail;
  }
  const options: LogOptions = {
    follow: bool(q, 'follow'),
    previous: bool(q, 'previous'),
    timestamps: bool(q, 'timestamps'),
  };
  const sinceSeconds = int(q, 'sinceSeconds', 1);
  const sinceTime = time(q, 'sinceTime');
  const tailLines = int(q, 'tailLines', 0);
  const limitBytes = int(q, 'limitBytes', 1);
  const wanted = stream(q);
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    throw invalid('at most one of sinceSeconds or sinceTime may be specified');
  }
  if (wanted !== undefined && wanted !== 'All' && tailLines !== undefined) {
    throw invalid(`tailLines cannot be combined with stream=${wanted}`);
  }
  if (sinceSeconds !== undefined) options.sinceSeconds = sinceSeconds;
  if (sinceTime !== undefined) options.sinceTime = sinceTime;
  if (tailLines !== undefined) options.tailLines = tailLines;
  if (limitBytes !== undefined) options.limitBytes = limitBytes;
  if (wanted !== undefined) options.stream = wanted;
  return options;
}
