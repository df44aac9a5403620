// The gRPC health check a kubelet's grpc probe makes (grpc.health.v1.Health/Check), over cleartext
// HTTP/2 with node:http2: one unary call is a length-prefixed protobuf message each way, small enough
// to write by hand instead of carrying a gRPC library (pkg/probe/grpc/grpc.go).
import http2 from 'node:http2';

export type GrpcHealth = { serving: true } | { serving: false; message: string };

/** HealthCheckRequest { string service = 1; } */
function encodeRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message =
    name.length > 0 ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
  const frame = Buffer.alloc(5);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** HealthCheckResponse { ServingStatus status = 1; }: UNKNOWN 0, SERVING 1, NOT_SERVING 2, SERVICE_UNKNOWN 3. */
export function decodeStatus(body: Buffer): number {
  if (body.length < 5) return 0;
  const message = body.subarray(5, 5 + body.readUInt32BE(1));
  let i = 0;
  while (i < message.length) {
    const tag = message[i++] ?? 0;
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = message[i++] ?? 0;
      value |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (tag === 0x08) return value;
    if ((tag & 7) === 2) i += value;
  }
  return 0;
}

const statusNames = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

export function grpcHealthCheck(options: {
  host: string;
  port: number;
  service: string;
  timeoutMs: number;
}): Promise<GrpcHealth> {
  const { host, port, service, timeoutMs } = options;
  const address = host.includes(':') ? `[${host}]` : host;
  return new Promise((resolve) => {
    let settled = false;
    const session = http2.connect(`http://${address}:${port}`);
    const done = (result: GrpcHealth) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ serving: false, message: `timeout: health rpc did not complete within ${timeoutMs}ms` }),
      timeoutMs,
    );
    session.on('error', (err: Error) =>
      done({
        serving: false,
        message: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${err.message}`,
      }),
    );
    const stream = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers: http2.IncomingHttpHeaders) => {
      grpcStatus = String(trailers['grpc-status'] ?? grpcStatus ?? '');
      if (trailers['grpc-message']) grpcMessage = String(trailers['grpc-message']);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err: Error) => done({ serving: false, message: `error: ${err.message}` }));
    stream.on('end', () => {
      if (grpcStatus && grpcStatus !== '0') {
        done({ serving: false, message: `rpc error: code = ${grpcStatus} desc = ${grpcMessage ?? ''}` });
        return;
      }
      const status = decodeStatus(Buffer.concat(chunks));
      if (status === 1) done({ serving: true });
      else
        done({
          serving: false,
          message: `service unhealthy (responded with "${statusNames[status] ?? status}")`,
        });
    });
    stream.end(encodeRequest(service));
  });
}
