import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckConfig } from '../../src/config/schema.js';
import { createChecker, type Checker } from '../../src/checks/index.js';
import { silentLogger } from '../../src/log.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { freePort } from '../support/net.js';
import { loopStall } from '../support/stall.js';

/** Slack allowed beyond a probe's timeout (timer granularity, a busy CI core). */
const SLACK_MS = 250;

const http = (over: Partial<NonNullable<CheckConfig['http']>> = {}): CheckConfig => ({
  http: { method: 'GET', path: '/healthz', https: false, expectedStatuses: ['200-399'], ...over },
});

let checker: Checker;
let backends: Backend[];
let special: Server;
let specialPort: number;
let seen: Array<{ method: string | undefined; url: string | undefined; headers: IncomingHttpHeaders }>;

beforeAll(async () => {
  backends = await startHttpBackends(2, { prefix: 'hc' });
  seen = [];
  // Answers what the shared backends cannot: redirects, big bodies, header echo.
  special = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    req.resume();
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/healthz' });
      res.end();
    } else if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x'.repeat(70 * 1024));
      res.end('NEEDLE');
    } else if (req.url === '/early') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('status: ready\n'); // the rest of the body never comes: the match must not wait for it
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('healthy');
    }
  });
  await new Promise<void>((r) => special.listen(0, '127.0.0.1', r));
  specialPort = (special.address() as AddressInfo).port;
  checker = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger() });
});

afterAll(async () => {
  await checker.close();
  await checker.close(); // idempotent
  await Promise.all(backends.map((b) => b.close()));
  special.closeAllConnections();
  await new Promise<void>((r) => special.close(() => r()));
});

beforeEach(() => {
  for (const b of backends) {
    b.setHealthStatus(200);
    b.setHang(false);
    b.setDelay(0);
  }
  seen.length = 0;
});

const target = (port: number) => ({ address: '127.0.0.1', port });

describe('HTTP check against real servers', () => {
  it('passes on 200', async () => {
    const b = backends[0]!;
    const before = b.healthChecks;
    const r = await checker.run(target(b.port), http(), { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, detail: 'HTTP 200' });
    expect(r.timedOut).toBeUndefined();
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.latencyMs).toBeLessThan(5000);
    expect(b.healthChecks).toBe(before + 1);
  });

  it('fails on 503 and passes again when the backend recovers', async () => {
    const b = backends[0]!;
    b.setHealthStatus(503);
    expect(await checker.run(target(b.port), http(), { timeoutMs: 5000 })).toMatchObject({ ok: false, detail: 'HTTP 503' });
    b.setHealthStatus(200);
    expect(await checker.run(target(b.port), http(), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'HTTP 200' });
  });

  it('judges statuses by the configured ranges', async () => {
    const b = backends[0]!;
    b.setHealthStatus(204);
    expect(await checker.run(target(b.port), http({ expectedStatuses: ['204'] }), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'HTTP 204' });
    b.setHealthStatus(200);
    expect(await checker.run(target(b.port), http({ expectedStatuses: ['204'] }), { timeoutMs: 5000 })).toMatchObject({ ok: false, detail: 'HTTP 200' });
    b.setHealthStatus(429);
    expect(await checker.run(target(b.port), http({ expectedStatuses: ['200-299', '429'] }), { timeoutMs: 5000 })).toMatchObject({ ok: true });
  });

  it('matches the body (substring)', async () => {
    const b = backends[1]!; // answers with its name, "hc2"
    expect(await checker.run(target(b.port), http({ bodyMatch: 'hc2' }), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'HTTP 200' });
    expect(await checker.run(target(b.port), http({ bodyMatch: 'ok' }), { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      detail: 'HTTP 200 but body lacks "ok"',
    });
  });

  it('reads at most 64 KiB of body and stops as soon as the match is found', async () => {
    expect(await checker.run(target(specialPort), http({ path: '/big', bodyMatch: 'NEEDLE' }), { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      detail: 'HTTP 200 but body lacks "NEEDLE"',
    });
    expect(await checker.run(target(specialPort), http({ path: '/big', bodyMatch: 'xxxx' }), { timeoutMs: 5000 })).toMatchObject({ ok: true });
    // A checker that waited for the rest of the body would only end at the timeout (a timeout, not a pass); the
    // timeout is long so that a loaded machine cannot cause that, and the latency stays well under it.
    const r = await checker.run(target(specialPort), http({ path: '/early', bodyMatch: 'ready' }), { timeoutMs: 10_000 });
    expect(r).toMatchObject({ ok: true, detail: 'HTTP 200' });
    expect(r.latencyMs).toBeLessThan(5000);
  });

  it('does not follow redirects: a 302 is judged by the status ranges', async () => {
    expect(await checker.run(target(specialPort), http({ path: '/redirect', expectedStatuses: ['200-299'] }), { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      detail: 'HTTP 302',
    });
    expect(await checker.run(target(specialPort), http({ path: '/redirect' }), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'HTTP 302' });
    expect(seen.map((s) => s.url)).toEqual(['/redirect', '/redirect']);
  });

  it('sends the method, Host header and extra headers', async () => {
    await checker.run(target(specialPort), http({ method: 'HEAD', path: '/h', host: 'api.example.test', headers: { 'x-probe': 'yes' } }), { timeoutMs: 5000 });
    await checker.run(target(specialPort), http({ method: 'POST', path: '/p' }), { timeoutMs: 5000 });
    expect(seen[0]).toMatchObject({ method: 'HEAD', url: '/h', headers: { host: 'api.example.test', 'x-probe': 'yes', 'user-agent': 'healthmesh-check' } });
    expect(seen[1]).toMatchObject({ method: 'POST', url: '/p', headers: { host: `127.0.0.1:${specialPort}` } });
  });

  it('sends the configured name as Host when the target is a name', async () => {
    const r = await checker.run({ address: 'localhost', port: specialPort }, http({ path: '/n' }), { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true });
    expect(seen[0]?.headers.host).toBe(`localhost:${specialPort}`);
  });

  it('times out a hanging backend within the timeout plus slack', async () => {
    const b = backends[0]!;
    b.setHang(true);
    const stall = loopStall();
    const t0 = performance.now();
    const r = await checker.run(target(b.port), http(), { timeoutMs: 300 });
    const took = performance.now() - t0;
    expect(r).toMatchObject({ ok: false, timedOut: true, detail: 'timeout after 300 ms' });
    expect(took).toBeGreaterThanOrEqual(290);
    // Plus whatever this process's event loop stalled meanwhile (a starved machine fires the timeout late).
    const stalled = await stall.maxMs();
    stall.stop();
    expect(took, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThan(300 + SLACK_MS + stalled);
    // A slow (not hung) backend inside the timeout passes.
    b.setHang(false);
    b.setDelay(50);
    expect(await checker.run(target(b.port), http(), { timeoutMs: 5000 })).toMatchObject({ ok: true });
  });

  it('reports a refused port', async () => {
    const port = await freePort();
    const r = await checker.run(target(port), http(), { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: false, detail: 'connection refused' });
    expect(r.timedOut).toBeUndefined();
  });

  it('resolves at once when the caller aborts', async () => {
    const b = backends[0]!;
    b.setHang(true);
    const ac = new AbortController();
    const stall = loopStall();
    const p = checker.run(target(b.port), http(), { timeoutMs: 5000, signal: ac.signal });
    ac.abort();
    const t0 = performance.now();
    expect(await p).toMatchObject({ ok: false, detail: 'aborted' });
    const took = performance.now() - t0;
    const stalled = await stall.maxMs();
    stall.stop();
    // At once, not at the 5 s timeout: 100 ms plus whatever this process's event loop stalled meanwhile.
    expect(took, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThan(100 + stalled);
  });

  it('fails https against a plain HTTP server with a detail, never throws', async () => {
    const r = await checker.run(target(backends[0]!.port), http({ https: true }), { timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    expect(r.detail.length).toBeGreaterThan(0);
  });
});
