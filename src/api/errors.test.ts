import test from 'ava';
import { VicError, type ErrorCode } from '../shared/errors.js';
import { httpFailureOf, statusObject } from './errors.js';

test('VicError codes map to the HTTP status of the one table', (t) => {
  const expected: Array<[ErrorCode, number]> = [
    ['NotFound', 404],
    ['Invalid', 400],
    ['Unauthorized', 401],
    ['Forbidden', 403],
    ['Conflict', 409],
    ['VchUnavailable', 503],
    ['Timeout', 504],
    ['ImageNotFound', 500],
    ['Internal', 500],
  ];
  for (const [code, status] of expected) {
    t.is(httpFailureOf(new VicError(code, 'm')).status, status, code);
  }
});

test('the cause chain is followed to the VicError and its message kept for the user', (t) => {
  const err = new Error('wrapped', { cause: new VicError('NotFound', 'pod default/web not found') });
  t.deepEqual(httpFailureOf(err), { status: 404, message: 'pod default/web not found', code: 'NotFound' });
});

test('an unexpected error is a 500 that does not leak its message', (t) => {
  const failure = httpFailureOf(new TypeError('secret internals'));
  t.is(failure.status, 500);
  t.notRegex(failure.message, /secret/);
  t.is(failure.code, undefined);
});

test("express's own 4xx errors keep their status", (t) => {
  const err = Object.assign(new Error('Failed to decode param'), { status: 400 });
  t.is(httpFailureOf(err).status, 400);
});

test('the JSON body is a v1 Status', (t) => {
  t.deepEqual(statusObject(404, 'gone'), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'gone',
    reason: 'NotFound',
    code: 404,
  });
});
