// A logging proxy in front of a Docker engine's Unix socket: one line per API call, with the time it
// ended and how long the engine took to answer its headers. Point a vic-kubelet's --vch at the proxy
// to see what a pod's start-up asks of the engine, step by step (issue 15's start-up trace).
// Upgraded connections (exec, attach) are not proxied: this is for the request/response calls.
//
// Usage: npx tsx bench/tools/engine-trace.ts ENGINE_SOCKET PROXY_SOCKET
//   then: vic-kubelet --vch unix://PROXY_SOCKET ...
import http from 'node:http';
import { rmSync } from 'node:fs';

const [engine, listen] = process.argv.slice(2);
if (!engine || !listen) {
  console.error('usage: engine-trace.ts ENGINE_SOCKET PROXY_SOCKET');
  process.exit(2);
}
rmSync(listen, { force: true });
const agent = new http.Agent({ keepAlive: true });

http
  .createServer((req, res) => {
    const sent = performance.now();
    const upstream = http.request(
      { agent, socketPath: engine, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const answered = performance.now() - sent;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => {
          const at = new Date().toISOString().slice(11, 23);
          console.log(`${at} ${answered.toFixed(1).padStart(7)} ms ${req.method} ${req.url ?? ''}`);
        });
      },
    );
    upstream.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstream);
  })
  .listen(listen, () => console.error(`tracing ${engine} on ${listen}`));
