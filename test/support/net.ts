import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (listen on port 0, then close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: unexpected server address'));
        return;
      }
      srv.close((err) => (err ? reject(err) : resolve(addr.port)));
    });
  });
}

/** Below the kernel's ephemeral range (32768–60999 here): no outgoing connection or port-0 listener is given these. */
const RESTARTABLE_BASE = 20_000;
const RESTARTABLE_SPAN = 1_500;
let restartableNext = Math.floor(Math.random() * RESTARTABLE_SPAN);

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port for a server that is killed and started again on the same port (a control plane, a replica, etcd).
 * `freePort`'s ports come from the ephemeral range, which the kernel also hands to outgoing connections: while the
 * server is down, a proxy's connection could take its port (EADDRINUSE on restart). These come from below that
 * range, from a block of their own per vitest worker (files running at once never share one), tried in turn.
 */
export async function restartablePort(): Promise<number> {
  const pool = Math.max(1, Number(process.env.VITEST_POOL_ID ?? 1));
  const base = RESTARTABLE_BASE + ((pool - 1) % 8) * RESTARTABLE_SPAN;
  for (let tries = 0; tries < RESTARTABLE_SPAN; tries++) {
    const port = base + (restartableNext++ % RESTARTABLE_SPAN);
    if (await canListen(port)) return port;
  }
  throw new Error(`restartablePort: no free port in ${base}-${base + RESTARTABLE_SPAN - 1}`);
}
