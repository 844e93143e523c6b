import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NodeAgent } from '../../src/agent/agent.js';
import { PassThrough } from 'node:stream';
import { clientCredentials, isLoopbackListen, warnIfExposedPlaintext } from '../../src/auth/index.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { validateConfig } from '../../src/config/load.js';
import { endpointKey } from '../../src/core/model.js';
import { ConfigError } from '../../src/errors.js';
import { createAgentClient, type AgentClient, type HeartbeatRequestWire } from '../../src/signals/agent-proto.js';
import { callStatus, createStatusClient, type StatusClient } from '../../src/status/proto.js';
import { messageType, TYPE } from '../../src/xds/protos.js';
import { AdsTestClient } from '../support/ads-client.js';
import { bearer, TEST_AUTH, TEST_TOKENS } from '../support/auth.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { makeTestCerts, type TestCerts } from '../support/certs.js';
import { testConfig } from '../support/config.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

/** Issue 10, finding 1: every write RPC on the gRPC port needs credentials, against a real app on 127.0.0.1. */
const ADMIN = 'test-admin-token-0123456789abcdef';
const ROOT = join(import.meta.dirname, '../..');
const LRS_PATH = '/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats';
const lrsRequest = () => messageType('envoy.service.load_stats.v3.LoadStatsRequest');
const encodeLrs = (obj: Record<string, unknown>): Buffer => Buffer.from(lrsRequest().encode(lrsRequest().fromObject(obj)).finish());

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

const md = (value: string | undefined): grpc.Metadata => {
  const m = new grpc.Metadata();
  if (value !== undefined) m.set('authorization', value);
  return m;
};

/** A raw LRS stream (bytes in, status out). */
function lrsStream(client: grpc.Client, metadata: grpc.Metadata) {
  const call = client.makeBidiStreamRequest(
    LRS_PATH,
    (b: Buffer) => b,
    (b: Buffer) => b,
    metadata,
  );
  const state: { status?: grpc.StatusObject; responses: number } = { responses: 0 };
  call.on('data', () => state.responses++);
  call.on('status', (s: grpc.StatusObject) => (state.status = s));
  call.on('error', () => undefined);
  return { call, state, send: (obj: Record<string, unknown>) => call.write(encodeLrs(obj)) };
}

const loadReport = (ports: number[], errors: number) => ({
  cluster_stats: [
    {
      cluster_name: 'demo',
      load_report_interval: { seconds: 0, nanos: 500_000_000 },
      upstream_locality_stats: [
        {
          locality: {},
          upstream_endpoint_stats: ports.map((port) => ({
            address: { socket_address: { address: '127.0.0.1', port_value: port } },
            total_successful_requests: 0,
            total_error_requests: errors,
            total_issued_requests: errors,
          })),
        },
      ],
    },
  ],
});

describe('write RPCs need credentials (real app, real gRPC)', () => {
  let backends: Backend[];
  let app: Healthmesh;
  let port: number;
  let status: StatusClient;
  let agent: AgentClient;
  let raw: grpc.Client;
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    backends = await startHttpBackends(4);
    config = testConfig({
      admin: { token: ADMIN },
      lrs: { reportIntervalMs: 500, adsGraceMs: 500 },
      health: { tickMs: 50, guard: { maxEjectedPercent: 50 } },
      clusters: [
        {
          name: 'demo',
          healthCheck: { check: { http: { path: '/healthz' } }, intervalMs: 300, timeoutMs: 300, healthyThreshold: 1, unhealthyThreshold: 2 },
          endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })),
        },
      ],
    });
    app = createHealthmesh(config);
    port = (await app.start()).xdsPort;
    status = createStatusClient(`127.0.0.1:${port}`);
    agent = createAgentClient(`127.0.0.1:${port}`);
    raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    status?.close();
    agent?.close();
    raw?.close();
    await app?.stop();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  it('RegisterEndpoint / DeregisterEndpoint: UNAUTHENTICATED without or with a bad token, PERMISSION_DENIED for another role, OK for operator and admin', async () => {
    const extra = await freePort();
    const reg = { cluster: 'demo', address: '127.0.0.1', port: extra };
    const cases: Array<[string, grpc.Metadata, grpc.status]> = [
      ['no metadata', md(undefined), grpc.status.UNAUTHENTICATED],
      ['empty', md(''), grpc.status.UNAUTHENTICATED],
      ['Basic scheme', md('Basic dXNlcjpwYXNzd29yZA=='), grpc.status.UNAUTHENTICATED],
      ['token without scheme', md(TEST_TOKENS.operator), grpc.status.UNAUTHENTICATED],
      ['unknown token', bearer('x'.repeat(32)), grpc.status.UNAUTHENTICATED],
      ['operator token with one character changed', bearer(`${TEST_TOKENS.operator.slice(0, -1)}X`), grpc.status.UNAUTHENTICATED],
      ['agent token', bearer(TEST_TOKENS.agent), grpc.status.PERMISSION_DENIED],
      ['proxy token', bearer(TEST_TOKENS.proxy), grpc.status.PERMISSION_DENIED],
    ];
    for (const method of ['RegisterEndpoint', 'DeregisterEndpoint'] as const) {
      for (const [name, metadata, code] of cases) {
        const err = await failure(callStatus(status, method, reg, 5000, metadata));
        expect({ method, name, code: err.code }).toEqual({ method, name, code });
      }
    }
    // Nothing was registered by any refused call.
    expect(app.engine.endpoint(endpointKey('demo', '127.0.0.1', extra))).toBeUndefined();

    expect((await callStatus(status, 'RegisterEndpoint', reg, 5000, bearer(TEST_TOKENS.operator))).created).toBe(true);
    expect(app.engine.endpoint(endpointKey('demo', '127.0.0.1', extra))).toBeDefined();
    expect(await callStatus(status, 'DeregisterEndpoint', reg, 5000, bearer(ADMIN))).toEqual({ removed: true });
    expect((await callStatus(status, 'RegisterEndpoint', reg, 5000, bearer(ADMIN))).created).toBe(true);
    expect(await callStatus(status, 'DeregisterEndpoint', reg, 5000, bearer(TEST_TOKENS.operator))).toEqual({ removed: true });

    // Read-only calls stay open (loopback bind; see README "Security model").
    expect((await callStatus(status, 'ListClusters', {})).clusters.map((c) => c.name)).toEqual(['demo']);
    expect((await callStatus(status, 'ListEndpoints', { cluster: 'demo' })).endpoints).toHaveLength(4);
  });

  it('Heartbeat: UNAUTHENTICATED without a token, PERMISSION_DENIED for the operator token, OK for agent and admin', async () => {
    const hb: Partial<HeartbeatRequestWire> = {
      node_id: 'n1',
      endpoints: [{ cluster: 'demo', address: '127.0.0.1', port: backends[0]!.port }],
      cpu_percent: 1,
      memory_percent: 1,
      disk_percent: 1,
      interval_ms: 1000,
    };
    const beat = (metadata: grpc.Metadata) =>
      new Promise((resolve, reject) => agent.Heartbeat(hb, metadata, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))));
    expect((await failure(beat(md(undefined)))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await failure(beat(bearer(TEST_TOKENS.operator)))).code).toBe(grpc.status.PERMISSION_DENIED);
    await expect(beat(bearer(TEST_TOKENS.agent))).resolves.toMatchObject({ accepted_endpoints: 1 });
    await expect(beat(bearer(ADMIN))).resolves.toMatchObject({ accepted_endpoints: 1 });
  });

  it('LRS: no token is UNAUTHENTICATED; a proxy token without an ADS stream under its node id is ignored, then PERMISSION_DENIED', async () => {
    const anon = lrsStream(raw, md(undefined));
    anon.send({ node: { id: 'ghost' } });
    const refused = await waitFor(() => anon.state.status, { timeoutMs: 5000, what: 'the anonymous LRS stream to be refused' });
    expect(refused.code).toBe(grpc.status.UNAUTHENTICATED);

    const ports = backends.map((b) => b.port);
    const orphan = lrsStream(raw, bearer(TEST_TOKENS.proxy));
    orphan.send({ node: { id: 'ghost' } });
    for (let i = 0; i < 6; i++) orphan.send(loadReport(ports, 1000));
    const closed = await waitFor(() => orphan.state.status, { timeoutMs: 5000, what: 'the orphan LRS stream to be closed' });
    expect(closed.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(closed.details).toMatch(/no open ADS stream/);
    // 6,000 forged errors per endpoint counted for nothing.
    for (const p of ports) expect(app.engine.metrics(endpointKey('demo', '127.0.0.1', p))?.errorRate).toBeUndefined();
    for (const e of app.engine.endpoints('demo')) expect(e.decision.health).toBe('HEALTHY');
  });

  it('LRS with a proxy token and an open ADS stream counts, but can never eject more than the guard allows', async () => {
    const ads = new AdsTestClient(port, 'sotw');
    try {
      ads.send({ node: { id: 'lrs-proxy' }, type_url: TYPE.cluster });
      await ads.next(TYPE.cluster);
      await waitFor(() => app.controlPlane.ledger.hasOpenStream('lrs-proxy'), { timeoutMs: 5000, what: 'the ADS stream in the ledger' });
      const ports = backends.map((b) => b.port);
      const s = lrsStream(raw, bearer(TEST_TOKENS.proxy));
      s.send({ node: { id: 'lrs-proxy' } });
      await waitFor(() => s.state.responses === 1, { timeoutMs: 5000, what: 'the LoadStatsResponse' });
      // Every endpoint "fails" all its real traffic: the passive signal alone says eject all four.
      const ejected = () => app.engine.endpoints('demo').filter((e) => e.decision.health === 'UNHEALTHY').length;
      const maxEjected = Math.floor((config.health.guard.maxEjectedPercent / 100) * ports.length);
      // The most endpoints ever ejected at once, checked on every engine event (not only when polled).
      let mostEjected = 0;
      const off = app.engine.onEvent(() => (mostEjected = Math.max(mostEjected, ejected())));
      let reports = 0;
      await waitFor(
        () => {
          s.send(loadReport(ports, 1000));
          reports++;
          return app.engine.endpoints('demo').every((e) => e.decision.guarded || e.decision.health === 'UNHEALTHY');
        },
        { timeoutMs: 10_000, intervalMs: 100, what: 'the passive failure to reach every endpoint, the guard holding' },
      );
      expect(app.engine.metrics(endpointKey('demo', '127.0.0.1', ports[0]!))?.errorRate).toBe(1);
      off();
      expect(ejected()).toBe(maxEjected);
      expect(mostEjected).toBe(maxEjected);
      expect(app.engine.endpoints('demo').filter((e) => e.decision.guarded)).toHaveLength(ports.length - maxEjected);
      expect(reports).toBeGreaterThan(0);
      expect(s.state.status).toBeUndefined();
      s.call.end();
      // Once the ADS stream is gone, the same LRS identity's reports stop counting.
      ads.close();
      await waitFor(() => !app.controlPlane.ledger.hasOpenStream('lrs-proxy'), { timeoutMs: 5000, what: 'the ADS stream to close' });
    } finally {
      ads.close();
    }
  });

  it('ADS needs a proxy token only with auth.requireProxyToken (then: none → UNAUTHENTICATED, agent → PERMISSION_DENIED)', async () => {
    const open = new AdsTestClient(port, 'sotw');
    open.send({ node: { id: 'plain-envoy' }, type_url: TYPE.cluster });
    expect((await open.next(TYPE.cluster)).resources.map((r) => r.name)).toEqual(['demo']);
    open.close();

    app.reload(validateConfig({ ...structuredClone(config), auth: { ...structuredClone(TEST_AUTH), requireProxyToken: true } }));
    try {
      for (const [metadata, code] of [
        [md(undefined), grpc.status.UNAUTHENTICATED],
        [bearer('y'.repeat(40)), grpc.status.UNAUTHENTICATED],
        [bearer(TEST_TOKENS.agent), grpc.status.PERMISSION_DENIED],
      ] as const) {
        const c = new AdsTestClient(port, 'sotw', {}, { metadata });
        c.send({ node: { id: 'plain-envoy' }, type_url: TYPE.cluster });
        expect((await c.closed).code).toBe(code);
        expect(c.received).toHaveLength(0);
        c.close();
      }
      for (const token of [TEST_TOKENS.proxy, ADMIN]) {
        const ok = new AdsTestClient(port, 'delta', {}, { metadata: bearer(token) });
        ok.send({ node: { id: 'token-envoy' }, type_url: TYPE.cluster, resource_names_subscribe: ['*'] });
        expect((await ok.next(TYPE.cluster)).resources.map((r) => r.name)).toEqual(['demo']);
        ok.close();
      }
    } finally {
      app.reload(config);
    }
  });
  it('ADS: a proxy token with a nodes list may only connect as those node ids (as on LRS)', async () => {
    const edgeToken = 'edge-proxy-token-0123456789abcdef';
    const tokens = [...structuredClone(TEST_AUTH).tokens, { name: 'edge-proxy', role: 'proxy', token: edgeToken, nodes: ['edge-1'] }];
    app.reload(validateConfig({ ...structuredClone(config), auth: { tokens, requireProxyToken: true } }));
    try {
      const other = new AdsTestClient(port, 'sotw', {}, { metadata: bearer(edgeToken) });
      other.send({ node: { id: 'edge-2' }, type_url: TYPE.cluster });
      const closed = await other.closed;
      expect(closed.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(closed.details).toContain('may not connect as node "edge-2"');
      expect(other.received).toHaveLength(0);
      other.close();
      for (const protocol of ['sotw', 'delta'] as const) {
        const own = new AdsTestClient(port, protocol, {}, { metadata: bearer(edgeToken) });
        own.send({ node: { id: 'edge-1' }, type_url: TYPE.cluster, ...(protocol === 'delta' ? { resource_names_subscribe: ['*'] } : {}) });
        expect((await own.next(TYPE.cluster)).resources.map((r) => r.name)).toEqual(['demo']);
        own.close();
      }
    } finally {
      app.reload(config);
    }
  });
});

describe('TLS and mTLS on the gRPC port', () => {
  let certs: TestCerts;
  const apps: Healthmesh[] = [];
  const clients: grpc.Client[] = [];

  beforeAll(() => {
    certs = makeTestCerts();
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const a of apps) await a.stop();
    certs?.cleanup();
  });

  async function start(tls: Record<string, string>): Promise<number> {
    const app = createHealthmesh(testConfig({ xds: { tls }, clusters: [{ name: 'demo', endpoints: [{ address: '127.0.0.1', port: 9 }] }] }));
    apps.push(app);
    return (await app.start()).xdsPort;
  }

  const client = (port: number, creds: grpc.ChannelCredentials): StatusClient => {
    // The certificate names 127.0.0.1; the deadline keeps a refused handshake short.
    const c = createStatusClient(`127.0.0.1:${port}`, { 'grpc.use_local_subchannel_pool': 1 }, creds);
    clients.push(c);
    return c;
  };
  const register = (c: StatusClient, p: number) =>
    callStatus(c, 'RegisterEndpoint', { cluster: 'demo', address: '127.0.0.1', port: p }, 3000, bearer(TEST_TOKENS.operator));

  it('TLS: a client that trusts the CA registers with its token; a plaintext client cannot connect', async () => {
    const port = await start({ cert: certs.serverCert, key: certs.serverKey });
    const ca = readFileSync(certs.ca);
    expect((await register(client(port, grpc.credentials.createSsl(ca)), 1001)).created).toBe(true);
    expect((await failure(register(client(port, grpc.credentials.createInsecure()), 1002))).code).toBe(grpc.status.UNAVAILABLE);
    // TLS alone does not replace the token.
    const noToken = await failure(
      callStatus(client(port, grpc.credentials.createSsl(ca)), 'RegisterEndpoint', { cluster: 'demo', address: '127.0.0.1', port: 1003 }, 3000),
    );
    expect(noToken.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('mTLS: only clients with a certificate from clientCa get through', async () => {
    const port = await start({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca });
    const ca = readFileSync(certs.ca);
    const withCert = grpc.credentials.createSsl(ca, readFileSync(certs.clientKey), readFileSync(certs.clientCert));
    expect((await register(client(port, withCert), 1101)).created).toBe(true);
    expect((await failure(register(client(port, grpc.credentials.createSsl(ca)), 1102))).code).toBe(grpc.status.UNAVAILABLE);
    const foreign = grpc.credentials.createSsl(ca, readFileSync(certs.otherClientKey), readFileSync(certs.otherClientCert));
    expect((await failure(register(client(port, foreign), 1103))).code).toBe(grpc.status.UNAVAILABLE);
    // ADS over mTLS too (what a proxy on another host would use).
    const ads = new AdsTestClient(port, 'sotw', {}, { credentials: withCert });
    ads.send({ node: { id: 'tls-envoy' }, type_url: TYPE.cluster });
    expect((await ads.next(TYPE.cluster)).resources.map((r) => r.name)).toEqual(['demo']);
    ads.close();
    // A node agent on another host: mTLS plus its agent token.
    const agent = new NodeAgent({
      controlPlane: `127.0.0.1:${port}`,
      nodeId: 'tls-node',
      endpoints: [{ cluster: 'demo', address: '127.0.0.1', port: 9 }],
      intervalMs: 60_000,
      logger: silentLogger(),
      token: TEST_TOKENS.agent,
      credentials: clientCredentials({ tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey }),
      sample: async () => ({ cpuPercent: 1, memoryPercent: 1, diskPercent: 1 }),
    });
    agent.start();
    try {
      await waitFor(() => agent.stats().ok === 1 || agent.stats().lastError, { timeoutMs: 10_000, what: 'the agent heartbeat over mTLS' });
      expect(agent.stats()).toMatchObject({ ok: 1, failed: 0 });
    } finally {
      await agent.stop();
    }
    // `healthmesh status` reaches a TLS port with --tls-ca (and the client certificate for mTLS).
    const cli = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli.ts'),
        'status',
        '--server',
        `127.0.0.1:${port}`,
        '--json',
        '--tls-ca',
        certs.ca,
        '--tls-cert',
        certs.clientCert,
        '--tls-key',
        certs.clientKey,
      ],
      { cwd: ROOT, timeout: 60_000 },
    );
    expect(JSON.parse(cli.stdout).clusters.map((c: { name: string }) => c.name)).toEqual(['demo']);
  });

  it('xds.tls files are checked at load: missing, not PEM, key not matching the certificate', () => {
    const issues = (tls: Record<string, string>): string => {
      try {
        validateConfig({ xds: { tls } }, 'hm.yaml');
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      return 'valid';
    };
    expect(issues({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca })).toBe('valid');
    expect(issues({ cert: join(certs.dir, 'nope.crt'), key: certs.serverKey })).toMatch(/hm\.yaml: xds\.tls\.cert: cannot read certificate: ENOENT/);
    const garbage = join(certs.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate');
    expect(issues({ cert: certs.serverCert, key: garbage })).toMatch(/xds\.tls\.key: not a valid private key \(PEM\)/);
    expect(issues({ cert: certs.serverCert, key: certs.serverKey, clientCa: garbage })).toMatch(/xds\.tls\.clientCa: not a valid CA certificate/);
    expect(issues({ cert: certs.serverCert, key: certs.clientKey })).toMatch(/xds\.tls\.key: does not match the certificate in cert/);
  });
});

describe('auth config', () => {
  it('token entries are validated: one of token/tokenEnv, agent scopes, unique names and tokens', () => {
    const err = (auth: unknown): string => {
      try {
        validateConfig({ auth }, 'hm.yaml');
        return 'valid';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err({ tokens: [{ name: 'a', role: 'agent', tokenEnv: 'AGENT_TOKEN', endpoints: ['demo/*', 'demo/10.0.0.1:80', '*'] }] })).toBe('valid');
    expect(err({ tokens: [{ name: 'a', role: 'operator' }] })).toMatch(/auth\.tokens\[0\]\.token: set exactly one of token or tokenEnv/);
    expect(err({ tokens: [{ name: 'a', role: 'agent', token: 'z'.repeat(20) }] })).toMatch(/auth\.tokens\[0\]\.endpoints: an agent token needs endpoints/);
    expect(err({ tokens: [{ name: 'a', role: 'agent', token: 'z'.repeat(20), endpoints: ['demo'] }] })).toMatch(
      /endpoints\[0\]: cluster\/address:port, cluster\/\* or \*/,
    );
    expect(err({ tokens: [{ name: 'a', role: 'proxy', token: 'short' }] })).toMatch(/use at least 16 characters/);
    expect(
      err({
        tokens: [
          { name: 'a', role: 'proxy', token: 'z'.repeat(20) },
          { name: 'a', role: 'operator', token: 'q'.repeat(20) },
        ],
      }),
    ).toMatch(/tokens\[1\]\.name: duplicate name/);
    expect(
      err({
        tokens: [
          { name: 'a', role: 'proxy', token: 'z'.repeat(20) },
          { name: 'b', role: 'operator', token: 'z'.repeat(20) },
        ],
      }),
    ).toMatch(/tokens\[1\]\.name: has the same token as tokens\[0\]/);
  });

  it('a bind beyond loopback without TLS logs a warning naming the risk', () => {
    for (const l of ['127.0.0.1:18000', '127.1.2.3:1', 'localhost:18000', '[::1]:18000']) expect(isLoopbackListen(l)).toBe(true);
    for (const l of ['0.0.0.0:18000', '10.0.0.5:18000', '[::]:18000', 'example.com:18000']) expect(isLoopbackListen(l)).toBe(false);
    const lines: string[] = [];
    const out = new PassThrough();
    out.on('data', (b: Buffer) => lines.push(...b.toString().trim().split('\n')));
    const logger = createLogger('info', out);
    warnIfExposedPlaintext('127.0.0.1:18000', undefined, logger);
    warnIfExposedPlaintext('0.0.0.0:18000', { cert: 'c', key: 'k' }, logger);
    expect(lines).toEqual([]);
    warnIfExposedPlaintext('0.0.0.0:18000', undefined, logger, 'the xDS/gRPC port');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 40,
      address: '0.0.0.0:18000',
      msg: expect.stringMatching(/^the xDS\/gRPC port listens beyond loopback without TLS: bearer tokens.*clear text.*set xds\.tls/),
    });
  });
});
