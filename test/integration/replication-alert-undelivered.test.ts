// Found by trying replicas by hand (fresh-eyes-18): the leader logs an alert in `<prefix>/alerts/notified/` when it
// QUEUES the webhook POST, not when the receiver accepts it. A leader that crashes while its POST is still failing
// (receiver answering 503, retries pending) leaves a log entry that says "posted": the next leader replays nothing
// and the receiver never gets the alert, although the README promises at-least-once delivery.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { testConfig } from '../support/config.js';
import { replicationSection, testPrefix, useEtcd } from '../support/etcd.js';
import { waitFor } from '../support/wait.js';

const TTL = 2;
const etcd = useEtcd();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Post {
  status: number;
  event: string;
  replayed?: boolean;
  alert: { rule: string; message: string };
}

/** A receiver that answers 503 while `down` and keeps every body with the status it answered. */
async function receiver(): Promise<{ posts: Post[]; url: string; setDown: (down: boolean) => void }> {
  const posts: Post[] = [];
  let down = true;
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = down ? 503 : 204;
      posts.push({ status, ...(JSON.parse(body) as Omit<Post, 'status'>) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
  return { posts, url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`, setDown: (d) => (down = d) };
}

describe('replicated alert webhook: delivery log vs. a failing receiver', () => {
  it('an alert the crashed leader never got through (503s) is posted by the next leader', async () => {
    const hook = await receiver();
    const bs: Backend[] = await startHttpBackends(4);
    cleanups.push(() => Promise.all(bs.map((b) => b.close())).then(() => undefined));
    const prefix = testPrefix();
    const apps: Healthmesh[] = [];
    for (let i = 0; i < 3; i++) {
      const app = createHealthmesh(
        testConfig({
          replication: replicationSection(etcd(), prefix, `r${i}`, TTL),
          // Retries spread over several seconds: the leader is crashed while they are still pending.
          alerts: { cooldownMs: 0, webhook: { url: hook.url, timeoutMs: 5000, retries: 10 } },
          health: { circuit: { baseOpenMs: 1000, probationSuccesses: 2 }, warmupTimeoutMs: 3000 },
          clusters: [
            {
              name: 'web',
              healthCheck: { check: { http: { path: '/healthz' } }, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 2 },
              endpoints: bs.map((b) => ({ address: '127.0.0.1', port: b.port })),
            },
          ],
        }),
      );
      cleanups.push(() => app.stop());
      await app.start();
      apps.push(app);
    }
    await waitFor(() => apps.every((a) => a.replication!.liveIds().length === 3), { timeoutMs: 10_000, what: 'three live replicas' });
    await waitFor(() => apps.filter((a) => a.replication!.isLeader()).length === 1, { timeoutMs: 10_000, what: 'one leader' });
    const leader = apps.find((a) => a.replication!.isLeader())!;
    const rest = apps.filter((a) => a !== leader);
    const bad = bs[0]!;
    const fired = (status?: number) =>
      hook.posts.filter(
        (p) =>
          p.event === 'fired' &&
          p.alert.rule === 'endpoint_unhealthy' &&
          p.alert.message.includes(String(bad.port)) &&
          (status === undefined || p.status === status),
      );

    bad.setHealthStatus(503);
    // The leader tried to post it and the receiver refused: not delivered.
    await waitFor(() => fired(503).length > 0, { timeoutMs: 15_000, what: "the leader's first (refused) POST" });
    // Crash: no resignation; the leader key stays until its lease expires.
    await leader.replication!.stop({ revoke: false });
    await leader.stop();
    hook.setDown(false);
    await waitFor(() => rest.filter((a) => a.replication!.isLeader()).length === 1, { timeoutMs: TTL * 1000 + 10_000, what: 'a new leader' });
    await Promise.all(rest.map((a) => a.alerts.idle()));
    // The alert is still firing on the survivors, and the receiver never accepted it: the new leader must post it.
    expect(rest.every((a) => a.alerts.list({ state: 'firing' }).some((x) => x.rule === 'endpoint_unhealthy'))).toBe(true);
    await waitFor(() => fired(204).length > 0, { timeoutMs: 10_000, what: 'the alert delivered (2xx) by the new leader' });
  }, 60_000);
});
