// Shared set-up of the VCH integration tests: the real Docker engine of the test environment, a node
// name of their own per test file, pod VM specs, and removal of everything a file created.
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { createVch, type Vch } from '../../../src/vch/index.js';
import { Label } from '../../../src/vch/labels.js';
import type { ContainerSpec, PodVmSpec } from '../../../src/vch/types.js';

export const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///var/tmp/vic-kubelet-docker/docker.sock';
export const BUSYBOX = 'vic-test/busybox:latest';
export const PAUSE = 'vic-test/pause:latest';

export function uniqueNode(file: string): string {
  return `vch-it-${file}-${randomUUID().slice(0, 8)}`;
}

export function makeVch(nodeName: string, extra: Partial<Parameters<typeof createVch>[0]> = {}): Vch {
  return createVch({ endpoint: DOCKER_HOST, nodeName, sandboxImage: PAUSE, ...extra });
}

export function rawDocker(): Docker {
  return new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });
}

export function container(name: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name, image: BUSYBOX, imagePullPolicy: 'IfNotPresent', ...over };
}

export function podSpec(
  nodeName: string,
  name: string,
  containers: ContainerSpec[],
  over: Partial<PodVmSpec> = {},
): PodVmSpec {
  return {
    pod: { namespace: 'default', name, uid: randomUUID() },
    nodeName,
    containers,
    terminationGracePeriodSeconds: 1,
    ...over,
  };
}

/** Removes every container of the node, whatever state it is in. */
export async function cleanupNode(nodeName: string): Promise<void> {
  const docker = rawDocker();
  const list = await docker.listContainers({ all: true, filters: { label: [`${Label.node}=${nodeName}`] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

/** Every Docker container of a pod, straight from Docker: what a user of `docker ps -a` sees. */
export async function dockerContainersOf(uid: string): Promise<Docker.ContainerInfo[]> {
  return rawDocker().listContainers({ all: true, filters: { label: [`${Label.podUid}=${uid}`] } });
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

export interface SocketProxy {
  /** A DOCKER_HOST for a Vch that should go through the proxy. */
  endpoint: string;
  /** Connections open right now between clients and the engine. */
  open(): number;
  /** The request lines ("POST /images/create?...") seen so far. */
  requests: string[];
  /** Cuts every open connection, as a network drop would. */
  drop(): void;
  /** While down, new connections are cut at once: the VCH is unreachable. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** A unix-socket proxy in front of the engine: lets a test see and cut the connections of a Vch. */
export async function startProxy(): Promise<SocketProxy> {
  const path = join(tmpdir(), `vch-it-proxy-${randomUUID().slice(0, 8)}.sock`);
  const target = DOCKER_HOST.replace(/^unix:\/\//, '');
  const live = new Set<Socket>();
  const requests: string[] = [];
  let down = false;
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    live.add(client);
    const forget = (): void => {
      live.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', forget).on('error', forget);
    upstream.on('close', forget).on('error', forget);
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk
        .toString('latin1')
        .matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.1\r$/gm)) {
        requests.push(`${m[1]} ${m[2]}`);
      }
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    endpoint: `unix://${path}`,
    open: () => live.size,
    requests,
    drop: () => {
      for (const s of live) s.destroy();
    },
    setDown: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  };
}
