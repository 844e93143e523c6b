import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer, type AdminServerOptions } from '../../src/admin/server.js';
import { adminSchema, type AdminConfig } from '../../src/config/schema.js';
import { HealthmeshError, InvalidArgumentError } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { seededOperations, type FakeOperations } from '../support/fake-operations.js';

const TOKEN = 'test-admin-token-0123456789';
const SECURITY = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'x-frame-options': 'DENY' };

interface Running {
  server: AdminServer;
  ops: FakeOperations;
  base: string;
  address: string;
}

const servers: AdminServer[] = [];

async function startServer(config: Partial<AdminConfig> = {}, extra: Partial<AdminServerOptions> = {}): Promise<Running> {
  const ops = seededOperations();
  const server = new AdminServer({
    ops,
    metrics: createMetrics(ops),
    config: adminSchema.parse({ listen: '127.0.0.1:0', ...config }),
    logger: silentLogger(),
    env: {},
    ...extra,
  });
  servers.push(server);
  const { port, address } = await server.start();
  return { server, ops, base: `http://127.0.0.1:${port}`, address };
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

// Response bodies are checked field by field below; `any` keeps those checks readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function json(res: Response): Promise<any> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return res.json();
}

function expectError(received: unknown, code: string, field?: string): void {
  const body = received as { error: { code: string; message: unknown; field?: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  if (field !== undefined) expect(body.error.field).toBe(field);
}

const post = (url: string, init: { token?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });

describe('AdminServer: read-only routes', () => {
  let s: Running;
  let logs: string;
  beforeAll(async () => {
    logs = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs += String(chunk);
        cb();
      },
    });
    s = await startServer({ token: TOKEN }, { logger: createLogger('debug', sink) });
  });

  it('binds 127.0.0.1', () => {
    expect(s.address).toBe('127.0.0.1');
  });

  it('GET /healthz answers while the process lives, with security headers', async () => {
    const res = await fetch(`${s.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
    for (const [h, v] of Object.entries(SECURITY)) expect(res.headers.get(h)).toBe(v);
  });

  it('GET /readyz follows ops.ready()', async () => {
    let res = await fetch(`${s.base}/readyz`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ ready: true });
    s.ops.isReady = false;
    try {
      res = await fetch(`${s.base}/readyz`);
      expect(res.status).toBe(503);
      expect(await json(res)).toEqual({ ready: false });
    } finally {
      s.ops.isReady = true;
    }
  });

  it('GET /status lists clusters and endpoints', async () => {
    const res = await fetch(`${s.base}/status`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(Object.keys(body).sort()).toEqual(['clusters', 'endpoints']);
    expect(body.clusters.map((c: { name: string }) => c.name)).toEqual(['api', 'batch', 'web']);
    expect(body.endpoints).toHaveLength(4);
    expect(body.endpoints[1]).toMatchObject({ key: 'web/10.0.0.2:8080', score: 55, status: 'DEGRADED', circuit: 'half-open', reasons: ['p99 1.8s > 500ms'] });
  });

  it('GET /status filters by cluster and status', async () => {
    let body = await json(await fetch(`${s.base}/status?cluster=web`));
    expect(body.clusters.map((c: { name: string }) => c.name)).toEqual(['web']);
    expect(body.endpoints).toHaveLength(3);
    body = await json(await fetch(`${s.base}/status?cluster=web&status=degraded`));
    expect(body.endpoints.map((e: { key: string }) => e.key)).toEqual(['web/10.0.0.2:8080']);
    expect(s.ops.args.endpoints.at(-1)).toEqual({ cluster: 'web', status: 'DEGRADED' });
  });

  it.each([
    ['status=SICK', 400, 'INVALID_ARGUMENT', 'status'],
    ['cluster=%3Cscript%3E', 400, 'INVALID_ARGUMENT', 'cluster'],
    ['cluster=nope', 404, 'NOT_FOUND', undefined],
    ['colour=red', 400, 'INVALID_ARGUMENT', 'colour'],
    ['status=HEALTHY&status=DEGRADED', 400, 'INVALID_ARGUMENT', 'status'],
  ])('GET /status?%s -> %i %s', async (q, status, code, field) => {
    const res = await fetch(`${s.base}/status?${q}`);
    expect(res.status).toBe(status);
    expectError(await json(res), code, field);
  });

  it('GET /status/:cluster/:endpoint returns the endpoint and its history', async () => {
    let body = await json(await fetch(`${s.base}/status/web/10.0.0.1:8080`));
    expect(body.endpoint).toMatchObject({ key: 'web/10.0.0.1:8080', address: '10.0.0.1', port: 8080 });
    expect(body.history).toHaveLength(3);
    expect(s.ops.args.history.at(-1)).toEqual({ key: 'web/10.0.0.1:8080', query: { from: undefined, to: undefined, limit: 100 } });
    body = await json(await fetch(`${s.base}/status/web/10.0.0.1:8080?limit=2&from=1700000000000`));
    expect(body.history.map((p: { at: number }) => p.at)).toEqual([1_700_000_002_000, 1_700_000_003_000]);
  });

  it.each([
    ['/status/web/10.0.0.9:8080', 404, 'NOT_FOUND', undefined],
    ['/status/nope/10.0.0.1:8080', 404, 'NOT_FOUND', undefined],
    ['/status/web/nonsense', 400, 'INVALID_ARGUMENT', 'endpoint'],
    ['/status/web/10.0.0.1:70000', 400, 'INVALID_ARGUMENT', 'endpoint'],
    ['/status/w%20eb/10.0.0.1:8080', 400, 'INVALID_ARGUMENT', 'cluster'],
    ['/status/web/10.0.0.1:8080?limit=0', 400, 'INVALID_ARGUMENT', 'limit'],
    ['/status/web/10.0.0.1:8080?from=yesterday', 400, 'INVALID_ARGUMENT', 'from'],
    ['/nowhere', 404, 'NOT_FOUND', undefined],
    ['/status/web/%E0%A4%A', 400, 'INVALID_ARGUMENT', undefined],
  ])('GET %s -> %i %s', async (path, status, code, field) => {
    const res = await fetch(`${s.base}${path}`);
    expect(res.status).toBe(status);
    expectError(await json(res), code, field);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('GET /proxies returns the ledger', async () => {
    const body = await json(await fetch(`${s.base}/proxies`));
    expect(body.proxies.map((p: { streamId: string; protocol: string }) => `${p.streamId}:${p.protocol}`)).toEqual(['1:sotw', '2:delta', '3:delta', '4:sotw']);
  });

  it('GET /config returns the (already redacted) running configuration', async () => {
    expect(await json(await fetch(`${s.base}/config`))).toEqual(s.ops.configValue);
  });

  it('GET /alerts filters by state, level and time', async () => {
    expect((await json(await fetch(`${s.base}/alerts`))).alerts).toHaveLength(3);
    expect((await json(await fetch(`${s.base}/alerts?state=firing`))).alerts.map((a: { id: string }) => a.id)).toEqual(['a1', 'a2']);
    expect((await json(await fetch(`${s.base}/alerts?level=CRITICAL`))).alerts.map((a: { id: string }) => a.id)).toEqual(['a2']);
    await fetch(`${s.base}/alerts?from=1&to=2`);
    expect(s.ops.args.alerts.at(-1)).toEqual({ state: undefined, level: undefined, from: 1, to: 2 });
    const res = await fetch(`${s.base}/alerts?level=panic`);
    expect(res.status).toBe(400);
    expectError(await json(res), 'INVALID_ARGUMENT', 'level');
  });

  it('GET /metrics serves Prometheus text', async () => {
    const res = await fetch(`${s.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toMatch(/^healthmesh_endpoint_score\{cluster="web",endpoint="10\.0\.0\.2:8080"\} 55$/m);
    const head = await fetch(`${s.base}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('answers 405 with Allow for a known path and the wrong method', async () => {
    let res = await fetch(`${s.base}/status`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expectError(await json(res), 'METHOD_NOT_ALLOWED');
    res = await fetch(`${s.base}/endpoints/web/10.0.0.1:8080/drain`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('answers 500 without internals', async () => {
    s.ops.failures.set('config', new Error('cannot read /etc/secret: password=hunter2'));
    try {
      const res = await fetch(`${s.base}/config`);
      expect(res.status).toBe(500);
      const body = await json(res);
      expect(body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    } finally {
      s.ops.failures.delete('config');
    }
  });

  it('never logs the token or the Authorization header', async () => {
    await post(`${s.base}/endpoints/web/10.0.0.1:8080/drain`, { token: TOKEN });
    await post(`${s.base}/endpoints/web/10.0.0.1:8080/undrain`, { token: 'wrong-token-wrong-token' });
    s.ops.failures.set('recheck', new Error('boom'));
    try {
      expect((await post(`${s.base}/endpoints/web/10.0.0.1:8080/recheck`, { token: TOKEN })).status).toBe(500);
    } finally {
      s.ops.failures.delete('recheck');
    }
    expect(logs).toContain('endpoint drained via admin API');
    expect(logs).toContain('admin request failed');
    expect(logs).toContain('"component":"admin"');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain('wrong-token');
    expect(logs.toLowerCase()).not.toContain('bearer ');
  });
});

describe('AdminServer: mutations', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer({ token: TOKEN });
  });
  afterEach(() => {
    s.ops.args.drain.length = 0;
  });

  it.each([
    ['no Authorization', undefined, 'Bearer realm="healthmesh-admin"'],
    ['a wrong token', 'wrong-token-wrong-token', 'Bearer realm="healthmesh-admin", error="invalid_token"'],
  ])('refuses %s with 401 and a Bearer challenge', async (_what, token, challenge) => {
    const res = await post(`${s.base}/endpoints/web/10.0.0.1:8080/drain`, token ? { token } : {});
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    expectError(await json(res), 'UNAUTHENTICATED');
    expect(s.ops.args.drain).toEqual([]);
  });

  it('refuses another scheme', async () => {
    const res = await post(`${s.base}/endpoints/web/10.0.0.1:8080/drain`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
    });
    expect(res.status).toBe(401);
  });

  it('drains and undrains through to ops with the right token', async () => {
    let res = await post(`${s.base}/endpoints/web/10.0.0.1:8080/drain`, { token: TOKEN });
    expect(res.status).toBe(200);
    expect((await json(res)).endpoint).toMatchObject({ key: 'web/10.0.0.1:8080', drained: true, health: 'DRAINING' });
    res = await post(`${s.base}/endpoints/web/10.0.0.1:8080/undrain`, { token: TOKEN, body: '' });
    expect(res.status).toBe(200);
    expect((await json(res)).endpoint).toMatchObject({ drained: false });
    expect(s.ops.args.drain).toEqual([
      { key: 'web/10.0.0.1:8080', drained: true },
      { key: 'web/10.0.0.1:8080', drained: false },
    ]);
  });

  it('404s / 400s on endpoints that do not exist or do not parse, without calling ops', async () => {
    let res = await post(`${s.base}/endpoints/web/10.9.9.9:8080/drain`, { token: TOKEN });
    expect(res.status).toBe(404);
    expectError(await json(res), 'NOT_FOUND');
    res = await post(`${s.base}/endpoints/web/not-an-endpoint/drain`, { token: TOKEN });
    expect(res.status).toBe(400);
    expectError(await json(res), 'INVALID_ARGUMENT', 'endpoint');
    expect(s.ops.args.drain).toEqual([]);
  });

  it('rechecks now', async () => {
    const res = await post(`${s.base}/endpoints/api/10.0.1.1:9000/recheck`, { token: TOKEN });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ key: 'api/10.0.1.1:9000', result: { ok: true, detail: 'HTTP 200', latencyMs: 3 } });
    expect(s.ops.args.recheck).toEqual(['api/10.0.1.1:9000']);
  });

  it('maps typed errors from ops to their status', async () => {
    s.ops.failures.set('recheck', new HealthmeshError('UNAVAILABLE', 'endpoint has no active check'));
    try {
      const res = await post(`${s.base}/endpoints/api/10.0.1.1:9000/recheck`, { token: TOKEN });
      expect(res.status).toBe(503);
      expect(await json(res)).toEqual({ error: { code: 'UNAVAILABLE', message: 'endpoint has no active check' } });
    } finally {
      s.ops.failures.delete('recheck');
    }
  });

  it('acknowledges alerts, with an optional "by"', async () => {
    let res = await post(`${s.base}/alerts/a1/ack`, { token: TOKEN, body: JSON.stringify({ by: 'alice' }) });
    expect(res.status).toBe(200);
    expect((await json(res)).alert).toMatchObject({ id: 'a1', acknowledgedBy: 'alice' });
    res = await post(`${s.base}/alerts/a2/ack`, { token: TOKEN });
    expect(res.status).toBe(200);
    expect(s.ops.args.ack).toEqual([
      { id: 'a1', by: 'alice' },
      { id: 'a2', by: 'admin' },
    ]);
    res = await post(`${s.base}/alerts/zzz/ack`, { token: TOKEN });
    expect(res.status).toBe(404);
    expectError(await json(res), 'NOT_FOUND');
  });

  it.each([
    ['{"by": 5}', 'body.by'],
    ['{"by": "x", "extra": 1}', 'body.extra'],
    ['[1,2]', 'body'],
    ['{not json', 'body'],
  ])('refuses the body %s', async (body, field) => {
    const res = await post(`${s.base}/alerts/a3/ack`, { token: TOKEN, body });
    expect(res.status).toBe(400);
    expectError(await json(res), 'INVALID_ARGUMENT', field);
  });

  it('answers 413 to an oversized body (after the token check)', async () => {
    const big = JSON.stringify({ by: 'x'.repeat(10_000) });
    let res = await post(`${s.base}/alerts/a3/ack`, { token: TOKEN, body: big });
    expect(res.status).toBe(413);
    expectError(await json(res), 'PAYLOAD_TOO_LARGE');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    res = await post(`${s.base}/alerts/a3/ack`, { body: big });
    expect(res.status).toBe(401);
  });

  it('refuses bodies that are not JSON', async () => {
    const res = await post(`${s.base}/alerts/a3/ack`, { token: TOKEN, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'by=alice' });
    expect(res.status).toBe(415);
    expectError(await json(res), 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('AdminServer: without a token', () => {
  it('answers mutations 403, saying how to configure a token', async () => {
    const s = await startServer();
    for (const token of [undefined, TOKEN]) {
      const res = await post(`${s.base}/endpoints/web/10.0.0.1:8080/drain`, token ? { token } : {});
      expect(res.status).toBe(403);
      const body = await json(res);
      expectError(body, 'PERMISSION_DENIED');
      expect(body.error.message).toMatch(/admin\.token/);
    }
    expect(s.ops.args.drain).toEqual([]);
    expect(s.server.mutationsEnabled).toBe(false);
    // Reads need no token.
    expect((await fetch(`${s.base}/status`)).status).toBe(200);
  });

  it('takes the token from the environment variable admin.tokenEnv names', async () => {
    const envToken = 'env-token-abcdefghijklmnop';
    const s = await startServer({ tokenEnv: 'HM_ADMIN_TOKEN' }, { env: { HM_ADMIN_TOKEN: envToken } });
    expect((await post(`${s.base}/endpoints/web/10.0.0.1:8080/drain`, { token: envToken })).status).toBe(200);
    expect((await post(`${s.base}/endpoints/web/10.0.0.1:8080/drain`, { token: TOKEN })).status).toBe(401);
    const unset = await startServer({ tokenEnv: 'HM_ADMIN_TOKEN' }, { env: {} });
    expect((await post(`${unset.base}/endpoints/web/10.0.0.1:8080/drain`, { token: envToken })).status).toBe(403);
  });
});

describe('AdminServer: lifecycle and hooks', () => {
  it('binds 127.0.0.1 by default', async () => {
    expect(adminSchema.parse({}).listen).toBe('127.0.0.1:9090');
    const { address } = await startServer();
    expect(address).toBe('127.0.0.1');
  });

  it('start is idempotent; stop is idempotent and closes the port; a stopped server does not restart', async () => {
    const s = await startServer();
    expect(await s.server.start()).toEqual({ port: Number(new URL(s.base).port), address: '127.0.0.1' });
    await Promise.all([s.server.stop(), s.server.stop()]);
    await s.server.stop();
    await expect(fetch(`${s.base}/healthz`)).rejects.toThrow();
    await expect(s.server.start()).rejects.toThrow(/stopped/);
  });

  it('can be stopped without being started', async () => {
    const ops = seededOperations();
    const server = new AdminServer({ ops, metrics: createMetrics(ops), config: adminSchema.parse({}), logger: silentLogger() });
    await server.stop();
  });

  it('refuses to start when disabled', async () => {
    const ops = seededOperations();
    const server = new AdminServer({
      ops,
      metrics: createMetrics(ops),
      config: adminSchema.parse({ enabled: false, listen: '127.0.0.1:0' }),
      logger: silentLogger(),
    });
    await expect(server.start()).rejects.toThrow(/disabled/);
    await server.stop();
  });

  it('lets the reports module mount GET /reports/:type, with the same error shape and headers', async () => {
    const reports = {
      registerRoutes(app: FastifyInstance): void {
        app.get('/reports/:type', async (req, reply) => {
          const { type } = req.params as { type: string };
          if (type !== 'json') throw new InvalidArgumentError('type', 'must be json');
          return reply.send({ report: type });
        });
      },
    };
    const s = await startServer({}, { reports });
    let res = await fetch(`${s.base}/reports/json`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ report: 'json' });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    res = await fetch(`${s.base}/reports/pdf`);
    expect(res.status).toBe(400);
    expectError(await json(res), 'INVALID_ARGUMENT', 'type');
    res = await fetch(`${s.base}/reports/json`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
