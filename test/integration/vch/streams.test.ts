// Exec, attach, logs and port-forward against the real Docker engine.
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import test from 'ava';
import { VicError } from '../../../src/shared/errors.js';
import { cleanupNode, container, makeVch, podSpec, readAll, startProxy, uniqueNode } from './_helpers.js';

const node = uniqueNode('streams');
const vch = makeVch(node);
const execVch = makeVch(node, { portForward: { strategy: 'exec' } });
const spec = podSpec(node, 'streams', [
  container('app', { command: ['sh', '-c', 'echo started; sleep 3600'] }),
  container('web', {
    command: ['httpd', '-f', '-p', '8080', '-h', '/etc'],
    ports: [{ containerPort: 8080 }],
  }),
  container('tty', { command: ['sh'], tty: true, stdin: true }),
]);
const target = { uid: spec.pod.uid, containerName: 'app' };
/** A client that never goes away. */
const stays = new AbortController().signal;

test.before(async () => {
  await vch.pods.create(spec);
  await vch.pods.start(spec.pod.uid);
});

test.after.always(async () => {
  vch.close();
  execVch.close();
  await cleanupNode(node);
});

function collector(): { stream: PassThrough; text: () => string; buffer: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString(), buffer: () => Buffer.concat(chunks) };
}

test('exec returns the exit code and keeps stdout and stderr apart', async (t) => {
  const out = collector();
  const err = collector();
  const result = await vch.streams.exec(target, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'], {
    stdout: out.stream,
    stderr: err.stream,
    tty: false,
    signal: stays,
  });
  t.deepEqual(result, { exitCode: 3 });
  t.is(out.text(), 'to-out\n');
  t.is(err.text(), 'to-err\n');
  t.deepEqual(await vch.streams.exec(target, ['true'], { tty: false, signal: stays }), { exitCode: 0 });
});

test('10 MiB of random bytes go through exec stdin and come back unchanged', async (t) => {
  const data = randomBytes(10 * 2 ** 20);
  const out = collector();
  const result = await vch.streams.exec(target, ['cat'], {
    stdin: Readable.from([data]),
    stdout: out.stream,
    tty: false,
    signal: stays,
  });
  t.is(result.exitCode, 0);
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  t.is(out.buffer().length, data.length);
  t.is(sha(out.buffer()), sha(data));
});

test('the end of stdin reaches the process as end of file', async (t) => {
  const out = collector();
  const result = await vch.streams.exec(target, ['wc', '-l'], {
    stdin: Readable.from([Buffer.from('a\nb\nc\n')]),
    stdout: out.stream,
    tty: false,
    signal: stays,
  });
  t.is(result.exitCode, 0);
  t.is(out.text().trim(), '3');
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

test('a TTY exec sees the size it was resized to', async (t) => {
  const out = collector();
  const stdin = new PassThrough();
  // Sent before the exec exists: it is kept and applied once the exec runs.
  async function* sizes(): AsyncGenerator<{ width: number; height: number }> {
    yield { width: 123, height: 45 };
    await new Promise(() => undefined);
  }
  const running = ttyShell(stdin, out, sizes());
  // stty asks the terminal: the answer is the size Docker was told (asked again until the resize,
  // applied alongside the shell's start, has landed).
  await askSizeUntil(stdin, out, /45 123/);
  stdin.write('exit 7\n');
  const result = await running;
  t.is(result.exitCode, 7);
  t.regex(out.text(), /45 123/);
});

/** A shell on a TTY that follows `sizes`. */
function ttyShell(
  stdin: PassThrough,
  out: { stream: PassThrough },
  sizes: AsyncIterable<{ width: number; height: number }>,
) {
  return vch.streams.exec(target, ['sh'], {
    stdin,
    stdout: out.stream,
    tty: true,
    resize: sizes,
    signal: stays,
  });
}

async function askSizeUntil(stdin: PassThrough, out: { text: () => string }, answer: RegExp): Promise<void> {
  await until(() => out.text().includes('# '));
  for (let i = 0; i < 20 && !answer.test(out.text()); i++) {
    stdin.write('stty size\n');
    await until(() => answer.test(out.text()) || out.text().split('stty size').length - 1 > i + 1);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('sizes sent as they change are applied, and a TTY reads the end of stdin as ^D', async (t) => {
  const out = collector();
  const stdin = new PassThrough();
  let next: ((size: { width: number; height: number }) => void) | undefined;
  async function* sizes(): AsyncGenerator<{ width: number; height: number }> {
    yield { width: 80, height: 24 };
    yield await new Promise<{ width: number; height: number }>((resolve) => (next = resolve));
  }
  const running = ttyShell(stdin, out, sizes());
  await until(() => out.text().includes('# '));
  next?.({ width: 100, height: 30 });
  await askSizeUntil(stdin, out, /30 100/);
  stdin.end();
  t.is((await running).exitCode, 0);
  t.regex(out.text(), /30 100/);
});

test('an exec aborted by the client ends at once and leaves no connection to the VCH', async (t) => {
  const proxy = await startProxy();
  const proxied = makeVch(node, { endpoint: proxy.endpoint });
  try {
    const abort = new AbortController();
    const out = collector();
    const running = proxied.streams.exec(target, ['sh', '-c', 'echo ready; sleep 3600'], {
      stdout: out.stream,
      tty: false,
      signal: abort.signal,
    });
    await until(() => out.text().includes('ready'));
    t.true(proxy.open() >= 1);
    abort.abort();
    const err = await t.throwsAsync(running, { instanceOf: VicError });
    t.is(err?.code, 'Canceled');
    await until(() => proxy.open() === 0);
    t.is(proxy.open(), 0);
  } finally {
    proxied.close();
    await proxy.close();
  }
});

test('exec in a container that does not exist is NotFound', async (t) => {
  const err = await t.throwsAsync(
    vch.streams.exec({ uid: spec.pod.uid, containerName: 'nope' }, ['true'], { tty: false, signal: stays }),
    {
      instanceOf: VicError,
    },
  );
  t.is(err?.code, 'NotFound');
  t.regex(err?.message ?? '', /container "nope"/);
});

test("attach joins the container's own TTY process", async (t) => {
  const out = collector();
  const stdin = new PassThrough();
  const abort = new AbortController();
  const running = vch.streams.attach(
    { uid: spec.pod.uid, containerName: 'tty' },
    {
      stdin,
      stdout: out.stream,
      tty: true,
      signal: abort.signal,
    },
  );
  stdin.write('echo attached-$((6*7))\n');
  for (let i = 0; i < 100 && !out.text().includes('attached-42'); i++)
    await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  await t.throwsAsync(running, { instanceOf: VicError });
  t.regex(out.text(), /attached-42/);
});

test('logs: all of it, one stream, tail, timestamps, since, limitBytes', async (t) => {
  const logSpec = podSpec(node, 'logs', [
    // The pause keeps the two streams in this order in the log: Docker copies each on its own.
    container('app', {
      command: [
        'sh',
        '-c',
        'for i in 1 2 3 4 5; do echo out-$i; done; sleep 0.3; echo err-1 >&2; sleep 3600',
      ],
    }),
  ]);
  await vch.pods.create(logSpec);
  await vch.pods.start(logSpec.pod.uid);
  const logTarget = { uid: logSpec.pod.uid, containerName: 'app' };
  let all = '';
  for (let i = 0; i < 100 && !all.includes('err-1'); i++) {
    all = await readAll(await vch.streams.logs(logTarget));
    if (!all.includes('err-1')) await new Promise((r) => setTimeout(r, 50));
  }
  t.is(all, 'out-1\nout-2\nout-3\nout-4\nout-5\nerr-1\n');
  t.is(
    await readAll(await vch.streams.logs(logTarget, { stream: 'Stdout' })),
    'out-1\nout-2\nout-3\nout-4\nout-5\n',
  );
  t.is(await readAll(await vch.streams.logs(logTarget, { stream: 'Stderr' })), 'err-1\n');
  // Like kubelet's log files, the tail counts the lines of both streams.
  t.is(await readAll(await vch.streams.logs(logTarget, { tailLines: 2 })), 'out-5\nerr-1\n');
  t.is(await readAll(await vch.streams.logs(logTarget, { tailLines: 0 })), '');
  t.is(await readAll(await vch.streams.logs(logTarget, { limitBytes: 8 })), 'out-1\nou');
  t.is(await readAll(await vch.streams.logs(logTarget, { limitBytes: 0 })), '');
  const stamped = await readAll(await vch.streams.logs(logTarget, { timestamps: true, tailLines: 1 }));
  t.regex(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z err-1\n$/);
  t.is(await readAll(await vch.streams.logs(logTarget, { sinceTime: new Date(Date.now() + 3_600_000) })), '');
  t.is(await readAll(await vch.streams.logs(logTarget, { sinceSeconds: 3600 })), all);
  await vch.pods.remove(logSpec.pod.uid);
});

test('logs --previous reads the attempt before a restart; without one it is NotFound', async (t) => {
  const prevSpec = podSpec(node, 'previous', [
    container('app', { command: ['sh', '-c', 'echo attempt-$ATTEMPT'] }),
  ]);
  const first = await vch.pods.create({
    ...prevSpec,
    containers: [{ ...prevSpec.containers[0]!, env: [{ name: 'ATTEMPT', value: '0' }] }],
  });
  await vch.pods.startContainer(first.sandbox!.id);
  await vch.pods.startContainer(first.members[0]!.id);
  await vch.pods.waitContainer(first.members[0]!.id);
  const target2 = { uid: prevSpec.pod.uid, containerName: 'app' };
  const err = await t.throwsAsync(vch.streams.logs(target2, { previous: true }), { instanceOf: VicError });
  t.is(err?.code, 'NotFound');
  t.regex(err?.message ?? '', /previous terminated container "app"/);
  const second = await vch.pods.createContainer(
    { ...prevSpec, containers: [{ ...prevSpec.containers[0]!, env: [{ name: 'ATTEMPT', value: '1' }] }] },
    'app',
    1,
  );
  await vch.pods.startContainer(second.id);
  await vch.pods.waitContainer(second.id);
  t.is(await readAll(await vch.streams.logs(target2)), 'attempt-1\n');
  t.is(await readAll(await vch.streams.logs(target2, { previous: true })), 'attempt-0\n');
  await vch.pods.remove(prevSpec.pod.uid);
});

test('a follow stream delivers new lines, and closing it leaves no request open on the VCH', async (t) => {
  const followSpec = podSpec(node, 'follow', [
    container('app', {
      command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.2; done'],
    }),
  ]);
  await vch.pods.create(followSpec);
  await vch.pods.start(followSpec.pod.uid);
  const proxy = await startProxy();
  const proxied = makeVch(node, { endpoint: proxy.endpoint });
  try {
    const stream = await proxied.streams.logs(
      { uid: followSpec.pod.uid, containerName: 'app' },
      { follow: true },
    );
    let seen = '';
    for await (const chunk of stream) {
      seen += String(chunk);
      if (seen.includes('line-3')) break; // leaving the loop destroys the stream
    }
    t.regex(seen, /line-1\nline-2\nline-3/);
    t.true(stream.destroyed);
    await until(() => proxy.open() === 0);
    t.is(proxy.open(), 0);
  } finally {
    proxied.close();
    await proxy.close();
    await vch.pods.remove(followSpec.pod.uid);
  }
});

test('logs of a container not started yet say it is waiting', async (t) => {
  const waitSpec = podSpec(node, 'waiting', [container('app', { command: ['true'] })]);
  await vch.pods.create(waitSpec);
  const err = await t.throwsAsync(vch.streams.logs({ uid: waitSpec.pod.uid, containerName: 'app' }), {
    instanceOf: VicError,
  });
  t.regex(err?.message ?? '', /waiting to start/);
  await vch.pods.remove(waitSpec.pod.uid);
});

async function httpGetOver(duplex: NodeJS.ReadWriteStream): Promise<string> {
  duplex.write('GET /hostname HTTP/1.0\r\nHost: x\r\n\r\n');
  return readAll(duplex);
}

test('port-forward reaches a port inside the pod VM directly', async (t) => {
  const hostname = `${spec.pod.name}\n`;
  let answer = '';
  // httpd may take a moment to listen after the container started.
  for (let i = 0; i < 50 && !answer; i++) {
    try {
      answer = await httpGetOver(await vch.streams.portForward(spec.pod.uid, 8080));
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.regex(answer, /^HTTP\/1\.[01] 200/);
  t.true(answer.endsWith(hostname));
  const err = await t.throwsAsync(vch.streams.portForward(spec.pod.uid, 9), { instanceOf: VicError });
  t.is(err?.code, 'NotFound');
  t.regex(err?.message ?? '', /nothing listens/);
});

test('port-forward through an exec relay reaches the same port with only the Docker API', async (t) => {
  const answer = await httpGetOver(await execVch.streams.portForward(spec.pod.uid, 8080));
  t.regex(answer, /^HTTP\/1\.[01] 200/);
  t.true(answer.endsWith(`${spec.pod.name}\n`));
});
