// Found by trying SIGHUP as an operator (fresh-eyes-18): the alerts section (webhook url, rules, cooldown) is read
// once at start. A reload logs "configuration reloaded" and /config shows the new webhook, but alerts keep going to
// the old URL (e.g. a rotated receiver secret keeps being used), and a rule disabled by the reload keeps firing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthmesh } from '../../src/app.js';
import { startHttpBackends } from '../support/backends.js';
import { testConfig } from '../support/config.js';
import { waitFor } from '../support/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('SIGHUP reload of the alerts section', () => {
  it('a changed webhook url is used for the next alert; a rule disabled by a reload resolves at once', async () => {
    const posts: string[] = [];
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        posts.push(req.url ?? '');
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const bs = await startHttpBackends(3);
    cleanups.push(() => Promise.all(bs.map((b) => b.close())).then(() => undefined));
    const config = (url: string, endpointUnhealthy = true) =>
      testConfig({
        alerts: { cooldownMs: 0, webhook: { url, timeoutMs: 10_000, retries: 1 }, rules: { endpointUnhealthy: { enabled: endpointUnhealthy } } },
        clusters: [
          {
            name: 'web',
            healthCheck: { check: { http: { path: '/healthz' } }, intervalMs: 500, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2 },
            endpoints: bs.map((b) => ({ address: '127.0.0.1', port: b.port })),
          },
        ],
      });
    const app = createHealthmesh(config(`${base}/old`));
    cleanups.push(() => app.stop());
    await app.start();
    app.reload(config(`${base}/new`));
    bs[0]!.setHealthStatus(503);
    await waitFor(() => posts.length > 0, { timeoutMs: 15_000, what: 'an alert posted' });
    await app.alerts.idle();
    expect(posts).toEqual(['/new']);

    // A reload that disables the rule resolves what it raised, at once, through the webhook in force.
    app.reload(config(`${base}/newer`, false));
    await waitFor(() => posts.length > 1, { timeoutMs: 15_000, what: 'the resolution posted' });
    await app.alerts.idle();
    expect(posts).toEqual(['/new', '/newer']);
    expect(app.alerts.list({ state: 'firing' }).filter((a) => a.rule === 'endpoint_unhealthy')).toEqual([]);
  }, 60_000);
});
