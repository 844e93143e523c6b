/**
 * Probe targets of the health-scale section, in their own process so that their CPU does not count as
 * healthmesh's: `addresses` loopback addresses 127.77.<i>.<j> × `perAddress` ports each, every one a real
 * listening socket. All of them feed one HTTP server (`GET /healthz` → 200 "ok", keep-alive 65 s); a TCP check's
 * connection is accepted and closed by the client.
 *
 * Forked by health-scale-scenario.ts; RPC: `listen { count, perAddress, basePort }` → targets, `stats` → CPU and
 * counters, `exit`.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { cpuMs, isMain, serveRpc } from './health-common.js';

export interface Target {
  address: string;
  port: number;
}

export interface TargetStats {
  cpuMs: number;
  requests: number;
  connections: number;
  openSockets: number;
  rss: number;
}

/** The i-th loopback address used for targets (127.77.0.1, 127.77.0.2, …, 127.77.1.0, …; never .0 or .255 last octets). */
export function targetAddress(i: number): string {
  const third = Math.floor(i / 250);
  const fourth = (i % 250) + 1;
  return `127.77.${third}.${fourth}`;
}

if (isMain(import.meta.url)) {
  let requests = 0;
  let connections = 0;
  let open = 0;
  const servers: Server[] = [];
  const http = createHttpServer((req, res) => {
    requests++;
    req.resume();
    const body = req.url === '/healthz' ? 'ok' : 'hello';
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) });
    res.end(body);
  });
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  const onConnection = (socket: Socket): void => {
    connections++;
    open++;
    socket.once('close', () => open--);
    socket.on('error', () => undefined); // a TCP check resets or closes at once
    http.emit('connection', socket);
  };

  const listen = (address: string, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const srv = createNetServer(onConnection);
      srv.once('error', reject);
      srv.listen({ host: address, port, backlog: 511 }, () => {
        srv.removeListener('error', reject);
        servers.push(srv);
        const a = srv.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });

  serveRpc(
    {
      async listen(a: { count: number; perAddress: number; basePort: number }): Promise<Target[]> {
        const targets: Target[] = [];
        const addresses = Math.ceil(a.count / a.perAddress);
        for (let i = 0; i < addresses; i++) {
          const address = targetAddress(i);
          const n = Math.min(a.perAddress, a.count - i * a.perAddress);
          const batch = await Promise.all(
            Array.from({ length: n }, async (_, j) => {
              try {
                return { address, port: await listen(address, a.basePort + j) };
              } catch {
                return { address, port: await listen(address, 0) }; // port taken: any free one
              }
            }),
          );
          targets.push(...batch);
        }
        return targets;
      },
      stats(): TargetStats {
        return { cpuMs: cpuMs(), requests, connections, openSockets: open, rss: process.memoryUsage().rss };
      },
    },
    async () => {
      http.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  );
}
