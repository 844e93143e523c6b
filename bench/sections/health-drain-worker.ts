/**
 * The data side of the health-drain section, in its own process: HTTP backends (one group per side under test)
 * and one steady request stream per side through that side's Envoy. Everything is recorded with timestamps from
 * wallNow() (comparable with the parent's clock): each response (which backend answered, or an error) and each
 * /healthz request a backend received (and the status it answered).
 *
 * Forked by health-drain.ts. RPC: `backends { groups: { [side]: n } }` → ports, `traffic { side, url, rps }`,
 * `health { side, index, code }` → time it took effect, `responses { side, from }`, `checks { side, from }`,
 * `stats`, `exit`.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpuMs, isMain, serveRpc, wallNow } from './health-common.js';

/** One response seen by the traffic stream: completion time and the backend index (−1: error / non-2xx). */
export interface ResponseRecord {
  t: number;
  b: number;
}

/** One /healthz request a backend received: arrival time, backend index, status answered. */
export interface CheckRecord {
  t: number;
  b: number;
  code: number;
  agent: string;
}

interface Group {
  servers: Server[];
  ports: number[];
  healthStatus: number[];
  responses: ResponseRecord[];
  checks: CheckRecord[];
  stream?: { timer: NodeJS.Timeout; agent: Agent; sent: number; inFlight: number; errors: number; dropped: number };
}

if (isMain(import.meta.url)) {
  const groups = new Map<string, Group>();
  const group = (side: string): Group => {
    const g = groups.get(side);
    if (!g) throw new Error(`unknown side ${side}`);
    return g;
  };

  const startBackend = (g: Group, index: number): Promise<number> => {
    const server = createServer((req, res) => {
      req.resume();
      const isHealth = (req.url ?? '').split('?')[0] === '/healthz';
      const code = isHealth ? g.healthStatus[index]! : 200;
      if (isHealth) g.checks.push({ t: wallNow(), b: index, code, agent: String(req.headers['user-agent'] ?? '') });
      res.writeHead(code, { 'content-type': 'text/plain', 'x-backend': String(index) });
      res.end(String(index));
    });
    // As in test/support/backends.ts: never close idle keep-alive connections (an idle close racing with Envoy
    // reusing the connection shows up as spurious 503s).
    server.keepAliveTimeout = 0;
    g.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  };

  /** Requests at a steady rate (catching up every 5 ms tick), keep-alive, a bounded number in flight. */
  const startStream = (g: Group, url: string, rps: number, maxInFlight: number): void => {
    const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
    const u = new URL(url);
    const s = { timer: undefined as unknown as NodeJS.Timeout, agent, sent: 0, inFlight: 0, errors: 0, dropped: 0 };
    const began = wallNow();
    const one = (): void => {
      s.inFlight++;
      let done = false;
      const finish = (b: number): void => {
        if (done) return;
        done = true;
        s.inFlight--;
        if (b < 0) s.errors++;
        g.responses.push({ t: wallNow(), b });
      };
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, agent, timeout: 2000 }, (res) => {
        const b = res.statusCode && res.statusCode >= 200 && res.statusCode < 300 ? Number(res.headers['x-backend'] ?? -1) : -1;
        res.resume();
        res.once('end', () => finish(Number.isInteger(b) ? b : -1));
        res.once('error', () => finish(-1));
      });
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', () => finish(-1));
      req.end();
    };
    s.timer = setInterval(() => {
      const due = Math.floor(((wallNow() - began) * rps) / 1000);
      while (s.sent < due) {
        s.sent++;
        if (s.inFlight >= maxInFlight) {
          s.dropped++; // the stream is not keeping up: skip rather than build a queue
          continue;
        }
        one();
      }
    }, 5);
    g.stream = s;
  };

  serveRpc(
    {
      async backends(a: { groups: Record<string, number> }): Promise<Record<string, number[]>> {
        const out: Record<string, number[]> = {};
        for (const [side, n] of Object.entries(a.groups)) {
          const g: Group = { servers: [], ports: [], healthStatus: Array.from({ length: n }, () => 200), responses: [], checks: [] };
          groups.set(side, g);
          for (let i = 0; i < n; i++) g.ports.push(await startBackend(g, i));
          out[side] = g.ports;
        }
        return out;
      },
      traffic(a: { side: string; url: string; rps: number; maxInFlight: number }): boolean {
        startStream(group(a.side), a.url, a.rps, a.maxInFlight);
        return true;
      },
      /** Sets /healthz of backends (side → index → code) in one go; returns the time it took effect. */
      health(a: { changes: Array<{ side: string; index: number; code: number }> }): number {
        for (const c of a.changes) group(c.side).healthStatus[c.index] = c.code;
        return wallNow();
      },
      responses(a: { side: string; from: number }): ResponseRecord[] {
        return sliceFrom(group(a.side).responses, a.from);
      },
      checks(a: { side: string; from: number }): CheckRecord[] {
        return sliceFrom(group(a.side).checks, a.from);
      },
      stats(): Record<string, unknown> {
        const sides: Record<string, unknown> = {};
        for (const [side, g] of groups)
          sides[side] = {
            sent: g.stream?.sent ?? 0,
            errors: g.stream?.errors ?? 0,
            dropped: g.stream?.dropped ?? 0,
            responses: g.responses.length,
            checks: g.checks.length,
          };
        return { cpuMs: cpuMs(), sides };
      },
    },
    async () => {
      for (const g of groups.values()) {
        if (g.stream) {
          clearInterval(g.stream.timer);
          g.stream.agent.destroy();
        }
        for (const s of g.servers) {
          s.closeAllConnections();
          s.close();
        }
      }
    },
  );
}

/** The records with t >= from (records are appended in time order). */
function sliceFrom<T extends { t: number }>(arr: T[], from: number): T[] {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]!.t < from) lo = mid + 1;
    else hi = mid;
  }
  return arr.slice(lo);
}
