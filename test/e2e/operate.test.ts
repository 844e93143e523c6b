import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { callStatus, createStatusClient, type StatusClient, type WatchEventWire } from '../../src/status/proto.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.js';
import { freePort, restartablePort } from '../support/net.js';
import { shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';
import { bearer, TEST_AUTH, TEST_TOKENS } from '../support/auth.js';

/**
 * Operating healthmesh as a separate process with a real Envoy: the gRPC status service (scenario 10),
 * mass failure with alerts and reasons (6), a NACK visible in status and admin (7), the admin endpoint
 * with its token, and kill -9 with registrations and history coming back from the store (8).
 */
const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const TOKEN = 'operate-test-token-0123456789';

describe('operating healthmesh (child process, real Envoy)', () => {
  let dir: string;
  let configFile: string;
  let backends: Backend[];
  let extra: Backend;
  let child: ChildProcess | undefined;
  let log = '';
  let envoy: EnvoyHandle;
  let client: StatusClient;
  let url: string;
  let admin: string;
  let xdsPort: number;
  let listenerPort: number;
  let config: Record<string, unknown>;
  const hooks: Array<{ event: string; alert: { rule: string; level: string; message: string } }> = [];
  let hookServer: HttpServer;
  const watched: WatchEventWire[] = [];
  let watch: grpc.ClientReadableStream<WatchEventWire> | undefined;

  function startHealthmesh(): Promise<ChildProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'serve', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolveStart, reject) => {
      const onData = (b: Buffer): void => {
        log += b.toString();
        if (log.includes('healthmesh started')) resolveStart(proc);
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`healthmesh exited with ${code}: ${log.slice(-3000)}`)));
    });
  }
  const rpc = <M extends Parameters<typeof callStatus>[1]>(method: M, req: Parameters<typeof callStatus<M>>[2]) =>
    callStatus(client, method, req, 5000, bearer(TEST_TOKENS.operator));
  const post = (path: string, token?: string) => fetch(`${admin}${path}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  const hostPorts = async (): Promise<number[]> => (await envoy.clusterHosts('demo')).map((h) => h.port);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'healthmesh-operate-'));
    configFile = join(dir, 'healthmesh.yaml');
    backends = await startHttpBackends(4);
    [extra] = (await startHttpBackends(1, { prefix: 'x' })) as [Backend];
    hookServer = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
    xdsPort = await restartablePort();
    listenerPort = await freePort();
    const adminPort = await restartablePort();
    admin = `http://127.0.0.1:${adminPort}`;
    url = `http://127.0.0.1:${listenerPort}/`;
    config = {
      xds: { listen: `127.0.0.1:${xdsPort}`, debounceMs: 20 },
      log: { level: 'info' },
      store: { path: join(dir, 'data', 'healthmesh.db'), sampleIntervalMs: 500 },
      admin: { listen: `127.0.0.1:${adminPort}`, token: TOKEN },
      auth: structuredClone(TEST_AUTH),
      alerts: {
        cooldownMs: 0,
        webhook: { url: `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`, minLevel: 'warning', timeoutMs: 1000 },
      },
      health: { tickMs: 100, guard: { maxEjectedPercent: 50 }, circuit: { baseOpenMs: 1000 }, recovery: { windowMs: 1000 } },
      listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
      routes: [{ name: 'local_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: 'demo' }] }] }],
      clusters: [
        {
          name: 'demo',
          healthCheck: { check: { http: { path: '/healthz' } }, intervalMs: 400, timeoutMs: 400, healthyThreshold: 1, unhealthyThreshold: 2 },
          endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })),
        },
      ],
    };
    writeFileSync(configFile, stringify(config));
    child = await startHealthmesh();
    envoy = await startEnvoy({ xdsPort, mode: 'sotw', nodeId: 'operate-envoy' });
    client = createStatusClient(`127.0.0.1:${xdsPort}`);
    watch = client.Watch({ cluster: 'demo' });
    watch.on('data', (e: WatchEventWire) => watched.push(e));
    watch.on('error', () => undefined);
    await waitFor(async () => Object.keys((await shares(url, 40)).counts).length === 4, { timeoutMs: 10_000, what: 'traffic to all four backends' });
  });

  afterAll(async () => {
    watch?.cancel();
    client?.close();
    child?.kill('SIGKILL');
    await envoy?.stop();
    await Promise.all([...(backends ?? []), extra].filter(Boolean).map((b) => b.close()));
    hookServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('10: the status service lists, registers (idempotently), validates and streams changes', async () => {
    const clusters = await rpc('ListClusters', {});
    expect(clusters.clusters.map((c) => [c.name, c.total, c.healthy])).toEqual([['demo', 4, 4]]);
    expect(watched.some((e) => e.event === 'synced')).toBe(true);

    const reg = { cluster: 'demo', address: '127.0.0.1', port: extra.port, weight: 2, zone: 'zone-x' };
    expect((await rpc('RegisterEndpoint', reg)).created).toBe(true);
    expect((await rpc('RegisterEndpoint', reg)).created).toBe(false);
    await expect(rpc('RegisterEndpoint', { ...reg, port: 0 })).rejects.toMatchObject({ code: 3, details: expect.stringMatching(/^port: /) });
    await expect(rpc('RegisterEndpoint', { ...reg, address: 'not an address!' })).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/^address: /),
    });
    await expect(rpc('RegisterEndpoint', { ...reg, cluster: 'nope' })).rejects.toMatchObject({ code: 5 });
    await waitFor(async () => (await hostPorts()).includes(extra.port), { timeoutMs: 15_000, what: 'Envoy to get the registered endpoint' });
    await waitFor(async () => (await shares(url, 60)).counts[extra.name], { timeoutMs: 15_000, what: 'traffic to the registered endpoint' });

    const list = await rpc('ListEndpoints', { cluster: 'demo' });
    const registered = list.endpoints.find((e) => e.port === extra.port)!;
    expect(registered).toMatchObject({ source: 'ENDPOINT_SOURCE_RUNTIME', target_weight: 200, zone: 'zone-x' });
    expect(watched.some((e) => e.endpoint?.port === extra.port)).toBe(true);
  });

  it('6: three of five failing: the guard caps ejections, a critical alert fires, and the status service says why', async () => {
    for (const b of backends.slice(0, 3)) b.setHealthStatus(503);
    const cluster = await waitFor(async () => (await rpc('ListClusters', {})).clusters.find((c) => c.name === 'demo' && c.failing === 3), {
      timeoutMs: 15_000,
      what: 'three failing endpoints',
    });
    expect(cluster).toMatchObject({ total: 5, ejected: 2, guarded: 1 });
    expect(cluster.reason).toMatch(/^3 of 5 endpoints failing; at most 50% \(2\) may be ejected; 127\.0\.0\.1:\d+ kept at /);
    const guarded = (await rpc('ListEndpoints', { cluster: 'demo' })).endpoints.find((e) => e.guarded)!;
    // HEALTHY at the minimum weight (or its normal weight once real traffic vouches for it), not DEGRADED spillover.
    expect(guarded.health).toBe('HEALTH_STATUS_HEALTHY');
    expect(guarded.reasons.join(' | ')).toMatch(/consecutive failed checks \(last: HTTP 503\).*kept in rotation by the guard/);
    expect((await hostPorts()).length).toBe(5);

    const critical = await waitFor(
      async () => (await rpc('ListAlerts', {})).alerts.find((a) => a.rule === 'cluster_capacity' && a.state === 'ALERT_STATE_FIRING'),
      { timeoutMs: 15_000, what: 'a critical capacity alert' },
    );
    expect(critical.level).toBe('ALERT_LEVEL_CRITICAL');
    expect(critical.message).toMatch(/2 of 5 endpoints healthy .*guard: 3 of 5 endpoints failing/);
    await waitFor(() => watched.some((e) => e.alert?.rule === 'cluster_capacity'), {
      timeoutMs: 15_000,
      what: 'the alert on the Watch stream',
    });
    await waitFor(() => hooks.some((h) => h.event === 'fired' && h.alert.rule === 'cluster_capacity' && h.alert.level === 'critical'), {
      timeoutMs: 15_000,
      what: 'the webhook delivery',
    });
    const s = await shares(url, 300, { concurrency: 5 });
    expect(s.errors).toBe(0);

    for (const b of backends.slice(0, 3)) b.setHealthStatus(200);
    await waitFor(async () => (await rpc('ListClusters', {})).clusters[0]?.healthy === 5, { timeoutMs: 10_000, what: 'recovery' });
    await waitFor(() => hooks.some((h) => h.event === 'resolved' && h.alert.rule === 'cluster_capacity'), { timeoutMs: 15_000, what: 'the resolved webhook' });
  });

  it('admin: status, metrics, and mutations only with the bearer token', async () => {
    const status = (await (await fetch(`${admin}/status`)).json()) as { clusters: Array<{ name: string }>; endpoints: unknown[] };
    expect(status.clusters.map((c) => c.name)).toEqual(['demo']);
    expect(status.endpoints).toHaveLength(5);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/^healthmesh_endpoint_score\{cluster="demo",endpoint="127\.0\.0\.1:\d+"\} \d+/m);
    expect(metrics).toMatch(/^healthmesh_checks_total\{kind="http",result="ok"\} [1-9]/m);
    const target = `/endpoints/demo/127.0.0.1:${backends[3]!.port}`;
    expect((await post(`${target}/drain`)).status).toBe(401);
    expect((await post(`${target}/drain`, 'wrong-token-wrong-token')).status).toBe(401);
    const drained = await post(`${target}/drain`, TOKEN);
    expect(drained.status).toBe(200);
    await waitFor(async () => (await envoy.clusterHosts('demo')).find((h) => h.port === backends[3]!.port)?.health.includes('DRAINING'), {
      timeoutMs: 15_000,
      what: 'Envoy to see DRAINING',
    });
    expect((await shares(url, 200)).counts[backends[3]!.name]).toBeUndefined();
    expect((await post(`${target}/undrain`, TOKEN)).status).toBe(200);
  });

  it('7: a config Envoy rejects is NACKed; status and admin show the text; the last good config keeps serving', async () => {
    const squatter: Server = createServer();
    const busy = await new Promise<number>((r) => squatter.listen(0, '127.0.0.1', () => r((squatter.address() as { port: number }).port)));
    try {
      const bad = structuredClone(config) as { listeners: object[] };
      bad.listeners.push({ name: 'clash', port: busy, routeConfig: 'local_route' });
      writeFileSync(configFile, stringify(bad));
      child!.kill('SIGHUP');
      const proxy = await waitFor(
        async () => (await rpc('ListProxies', {})).proxies.find((p) => p.node_id === 'operate-envoy' && p.types.some((t) => t.last_nack)),
        { timeoutMs: 15_000, what: 'the NACK in ListProxies' },
      );
      const nack = proxy.types.find((t) => t.last_nack)!.last_nack!;
      expect(nack.message).toMatch(/bind|address already in use/i);
      expect(nack.resources).toContain('clash');
      const viaAdmin = JSON.stringify(await (await fetch(`${admin}/proxies`)).json());
      expect(viaAdmin).toContain(nack.message.slice(0, 40).replace(/"/g, '\\"'));
      await waitFor(async () => (await rpc('ListAlerts', {})).alerts.find((a) => a.rule === 'nack' && a.state === 'ALERT_STATE_FIRING'), {
        timeoutMs: 15_000,
        what: 'a NACK alert',
      });
      const s = await shares(url, 200, { concurrency: 5 });
      expect(s.errors).toBe(0);
    } finally {
      writeFileSync(configFile, stringify(config));
      child!.kill('SIGHUP');
      squatter.close();
    }
  });

  it('11: every report type in every format from the admin endpoint, built from the recorded history', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    for (const type of ['summary', 'detailed', 'metrics', 'alerts', 'trends']) {
      for (const [format, contentType] of [
        ['json', 'application/json'],
        ['html', 'text/html'],
        ['csv', 'text/csv'],
        ['md', 'text/markdown'],
        ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      ] as const) {
        const res = await fetch(`${admin}/reports/${type}?format=${format}&from=${encodeURIComponent(from)}&cluster=demo`);
        expect(res.status, `${type}.${format}`).toBe(200);
        expect(res.headers.get('content-type')).toContain(contentType);
        expect(res.headers.get('content-disposition')).toMatch(
          new RegExp(`^attachment; filename="healthmesh-${type}-\\d{8}T\\d{6}Z-\\d{8}T\\d{6}Z\\.${format}"$`),
        );
        const body = Buffer.from(await res.arrayBuffer());
        expect(body.length).toBeGreaterThan(100);
      }
    }
    const summary = (await (await fetch(`${admin}/reports/summary?format=json&cluster=demo`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(summary)).toContain(`127.0.0.1:${backends[0]!.port}`);
    const html = await (await fetch(`${admin}/reports/trends?format=html`)).text();
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const bad = await fetch(`${admin}/reports/summary?format=pdf`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/format/);
  });

  it('8: kill -9 loses nothing: Envoy keeps routing; registrations and history come back; versions only go up', async () => {
    const versionText = async (): Promise<number> =>
      Number(/"(\d+)"/.exec(await (await fetch(`${envoy.adminUrl}/stats?filter=^cluster_manager\\.cds\\.version_text$`)).text())?.[1]);
    await waitFor(async () => (await rpc('ListClusters', {})).clusters[0]?.healthy === 5, { timeoutMs: 10_000, what: 'everything healthy before the kill' });
    const key = `demo/127.0.0.1:${backends[0]!.port}`;
    const historyBefore = (await rpc('GetEndpoint', { key, history_limit: 1000 })).history;
    expect(historyBefore.length).toBeGreaterThan(2);
    const before = await versionText();
    const killedAt = Date.now();

    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const down = await shares(url, 200, { concurrency: 5 });
    expect(down.errors).toBe(0);
    expect(Object.keys(down.counts)).toHaveLength(5);

    log = '';
    child = await startHealthmesh();
    expect(log).toMatch(/"registrations":1,"assignments":\d+[^\n]*state restored; first snapshot published/);
    client.close();
    client = createStatusClient(`127.0.0.1:${xdsPort}`);
    const eps = (await rpc('ListEndpoints', { cluster: 'demo' })).endpoints;
    expect(eps.find((e) => e.port === extra.port)).toMatchObject({ source: 'ENDPOINT_SOURCE_RUNTIME', target_weight: 200 });
    const history = (await rpc('GetEndpoint', { key, history_limit: 1000 })).history;
    expect(history.filter((p) => Number(p.at_ms) < killedAt).length).toBeGreaterThanOrEqual(historyBefore.length);
    await waitFor(async () => (await versionText()) > before, {
      timeoutMs: 40_000,
      what: 'Envoy on a higher version after restart (it reconnects with backoff)',
    });
    expect((await envoy.stats()).get('cluster_manager.cds.update_empty') ?? 0).toBe(0);
    expect((await hostPorts()).sort()).toEqual([...backends.map((b) => b.port), extra.port].sort());
    const s = await shares(url, 300, { concurrency: 5 });
    expect(s.errors).toBe(0);
    expect(s.counts[extra.name]).toBeGreaterThan(0);
  });
});
