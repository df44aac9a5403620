import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import test from 'ava';
import { VicError, type ErrorCode } from '../shared/errors.js';
import { dockerMessage, modemOptions, toVicError } from './client.js';

test('endpoints in DOCKER_HOST style become dockerode options', (t) => {
  t.like(modemOptions('unix:///var/run/docker.sock'), {
    socketPath: '/var/run/docker.sock',
    host: undefined,
  });
  t.like(modemOptions('/tmp/d.sock'), { socketPath: '/tmp/d.sock' });
  t.like(modemOptions('tcp://10.0.0.5:2375'), {
    host: '10.0.0.5',
    port: '2375',
    protocol: 'http',
    socketPath: undefined,
  });
  t.like(modemOptions('tcp://vch.example.com', { ca: 'CA', cert: 'C', key: 'K' }), {
    host: 'vch.example.com',
    port: '2376',
    protocol: 'https',
    ca: 'CA',
  });
  t.like(modemOptions('https://[fd00::1]:2376'), { host: 'fd00::1', protocol: 'https' });
});

test('unusable endpoints are refused with what to write instead', (t) => {
  for (const endpoint of ['ftp://x', 'not a url', 'unix://']) {
    const err = t.throws(() => modemOptions(endpoint), { instanceOf: VicError });
    t.is(err?.code, 'Invalid');
    t.regex(err?.message ?? '', /unix:\/\/|socket path/);
  }
});

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });
}

test("HTTP answers map to codes, with the daemon's own sentence", (t) => {
  const cases: [number, ErrorCode][] = [
    [404, 'NotFound'],
    [409, 'Conflict'],
    [400, 'Invalid'],
    [401, 'Unauthorized'],
    [503, 'VchUnavailable'],
    [500, 'Internal'],
  ];
  for (const [status, code] of cases) {
    const err = toVicError(httpError(status, 'No such container: abc'), 'start container abc');
    t.is(err.code, code);
    t.is(err.message, 'start container abc: No such container: abc');
    t.is(err.details.statusCode, status);
  }
  t.is(dockerMessage(new Error('(HTTP code 500) server error - boom ')), 'boom');
});

test('a VCH that cannot be reached is VchUnavailable, naming the endpoint', (t) => {
  for (const code of ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EHOSTUNREACH']) {
    const cause = Object.assign(new Error(`connect ${code}`), { code });
    const err = toVicError(cause, 'list containers', 'unix:///x.sock');
    t.is(err.code, 'VchUnavailable');
    t.is(err.message, `list containers: the VCH at unix:///x.sock is unreachable (${code})`);
    t.is(err.cause, cause);
  }
});

test('a VicError passes through unchanged', (t) => {
  const original = new VicError('ImageNotFound', 'x');
  t.is(toVicError(original, 'anything'), original);
});

test('ssh2 (16 MiB of WebAssembly memory at load) is never loaded: docker-modem gets a client that refuses', (t) => {
  const require = createRequire(import.meta.url);
  const path = require.resolve('ssh2', { paths: [dirname(require.resolve('docker-modem'))] });
  const ssh2 = require(path) as { Client: new () => unknown };
  const error = t.throws(() => new ssh2.Client());
  t.regex(error?.message ?? '', /does not connect to a VCH over ssh:\/\//);
});
