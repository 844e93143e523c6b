import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { AlertRecord, EndpointSnapshot } from '../../src/operations.js';
import { AgentIntake } from '../../src/signals/agent-intake.js';
import { registerSelfServices, SelfServices } from '../../src/status/health.js';
import { callStatus, createStatusClient, type StatusClient, type StatusUnaryMethod, type StatusRequest, type WatchEventWire } from '../../src/status/proto.js';
import { StatusService } from '../../src/status/service.js';
import { FakeOperations } from '../support/fake-operations.js';
import { waitFor } from '../support/wait.js';
import { bearer, testAuthenticator, TEST_TOKENS } from '../support/auth.js';

const T0 = 1_700_000_000_000;
const BACKLOG = 64;

let ops: FakeOperations;
let service: StatusService;
let self: SelfServices;
let server: grpc.Server;
let target: string;
let client: StatusClient;

/** Every call carries the operator token (read-only calls do not need it; write calls do). */
const call = <M extends StatusUnaryMethod>(method: M, req: StatusRequest<M>) => callStatus(client, method, req, 5000, bearer(TEST_TOKENS.operator));

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

function bind(s: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

function shutdown(s: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      s.forceShutdown();
      resolve();
    }, 2000);
    s.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/** A Watch call that records what it receives and how it ended. */
function watch(req: { cluster?: string }, c: StatusClient = client) {
  const events: WatchEventWire[] = [];
  const stream = c.Watch(req);
  const state: { error?: grpc.ServiceError; ended: boolean } = { ended: false };
  const ended = new Promise<void>((resolve) => {
    stream.on('error', (err: grpc.ServiceError) => {
      state.error = err;
      state.ended = true;
      resolve();
    });
    stream.on('end', () => {
      state.ended = true;
      resolve();
    });
  });
  stream.on('data', (ev: WatchEventWire) => events.push(ev));
  const synced = () => events.findIndex((e) => e.event === 'synced');
  return { stream, events, state, ended, synced };
}

const alert = (id: string, patch: Partial<AlertRecord> = {}): AlertRecord => ({
  id,
  rule: 'endpointUnhealthy',
  level: 'warning',
  subject: 'demo/127.0.0.1:9102',
  cluster: 'demo',
  message: 'demo/127.0.0.1:9102 is UNHEALTHY: connection refused',
  state: 'firing',
  firedAt: T0,
  lastSeenAt: T0,
  count: 1,
  ...patch,
});

beforeAll(async () => {
  let now = T0;
  ops = new FakeOperations({ clusters: ['demo', 'other'], now: () => (now += 1000) });
  ops.seed({ cluster: 'demo', address: '127.0.0.1', port: 9101, zone: 'a' });
  ops.seed({
    cluster: 'demo',
    address: '127.0.0.1',
    port: 9102,
    status: 'UNHEALTHY',
    circuit: 'open',
    health: 'UNHEALTHY',
    weight: 0,
    score: 12,
    reasons: ['connection refused', 'p99 1.8s > 500ms'],
  });
  ops.seed({ cluster: 'other', address: '10.0.0.5', port: 80, status: 'DEGRADED', health: 'DEGRADED', score: 60 });
  ops.historyMap.set(
    'demo/127.0.0.1:9101',
    Array.from({ length: 10 }, (_, i) => ({
      key: 'demo/127.0.0.1:9101',
      cluster: 'demo',
      at: T0 + i * 1000,
      score: 90 + i,
      status: 'HEALTHY' as const,
      circuit: 'closed' as const,
      health: 'HEALTHY' as const,
      weight: 100,
      latencyMs: 5 + i,
    })),
  );
  ops.proxyList = [
    {
      streamId: 's1',
      nodeId: 'envoy-1',
      protocol: 'delta',
      peer: 'ipv4:127.0.0.1:40000',
      connectedAt: T0,
      unknownTypes: [],
      types: {
        'type.googleapis.com/envoy.config.cluster.v3.Cluster': {
          nacks: 1,
          sentVersion: 'v3',
          ackedVersion: 'v2',
          publishToAckMs: 14,
          lastNack: { version: 'v3', message: 'Proto constraint validation failed', code: 3, at: T0 + 5, resources: ['demo'] },
        },
      },
    },
  ];
  ops.alertList = [alert('a1'), alert('a2', { level: 'critical', state: 'resolved', resolvedAt: T0 + 10, firedAt: T0 + 5 })];

  server = new grpc.Server();
  const auth = testAuthenticator();
  service = new StatusService({ ops, logger: silentLogger(), config: { historyLimit: 3, watchBacklog: BACKLOG }, auth, now: () => T0 });
  service.register(server);
  new AgentIntake({ auth, logger: silentLogger(), intervalMs: 1000, onHeartbeat: () => ({ accepted: 0 }) }).register(server);
  self = registerSelfServices(server, { ops, logger: silentLogger(), pollMs: 20 });
  target = `127.0.0.1:${await bind(server)}`;
  client = createStatusClient(target);
});

afterAll(async () => {
  client?.close();
  service?.stop();
  self?.stop();
  if (server) await shutdown(server);
});

describe('queries', () => {
  it('lists clusters and endpoints, filtered by cluster and status', async () => {
    const { clusters } = await call('ListClusters', {});
    expect(clusters.map((c) => c.name)).toEqual(['demo', 'other']);
    expect(clusters[0]).toMatchObject({ name: 'demo', total: 2, healthy: 1, failing: 1, ejected: 1 });

    const all = await call('ListEndpoints', {});
    expect(all.endpoints.map((e) => e.key).sort()).toEqual(['demo/127.0.0.1:9101', 'demo/127.0.0.1:9102', 'other/10.0.0.5:80']);
    const demo = await call('ListEndpoints', { cluster: 'demo' });
    expect(demo.endpoints).toHaveLength(2);
    const bad = await call('ListEndpoints', { status: 'HEALTH_STATUS_UNHEALTHY' });
    expect(bad.endpoints).toHaveLength(1);
    expect(bad.endpoints[0]).toMatchObject({
      key: 'demo/127.0.0.1:9102',
      status: 'HEALTH_STATUS_UNHEALTHY',
      circuit: 'CIRCUIT_STATE_OPEN',
      health: 'HEALTH_STATUS_UNHEALTHY',
      weight: 0,
      target_weight: 100,
      score: 12,
      reasons: ['connection refused', 'p99 1.8s > 500ms'],
      source: 'ENDPOINT_SOURCE_CONFIG',
    });
    expect(bad.endpoints[0]!.changed_at_ms).toBeGreaterThan(T0);
  });

  it('gets an endpoint by key or by parts, with bounded history', async () => {
    const byKey = await call('GetEndpoint', { key: 'demo/127.0.0.1:9101' });
    expect(byKey.endpoint).toMatchObject({ key: 'demo/127.0.0.1:9101', zone: 'a', status: 'HEALTH_STATUS_HEALTHY', weight_fraction: 1 });
    // The server's default limit (3), newest last.
    expect(byKey.history.map((h) => h.at_ms)).toEqual([T0 + 7000, T0 + 8000, T0 + 9000]);
    expect(byKey.history[2]).toMatchObject({ score: 99, latency_ms: 14, status: 'HEALTH_STATUS_HEALTHY' });
    expect(byKey.history[2]!.error_rate).toBeUndefined();

    const byParts = await call('GetEndpoint', { cluster: 'demo', address: '127.0.0.1', port: 9101, history_limit: 100, from_ms: T0 + 2000, to_ms: T0 + 4000 });
    expect(byParts.history.map((h) => h.at_ms)).toEqual([T0 + 2000, T0 + 3000, T0 + 4000]);
  });

  it('answers NOT_FOUND for unknown clusters and endpoints', async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [call('ListEndpoints', { cluster: 'nope' }), 'cluster "nope" not found'],
      [call('GetEndpoint', { key: 'demo/127.0.0.1:1' }), 'endpoint "demo/127.0.0.1:1" not found'],
      [call('GetEndpoint', { cluster: 'nope', address: 'h', port: 1 }), 'cluster "nope" not found'],
      [call('RegisterEndpoint', { cluster: 'nope', address: '10.0.0.1', port: 1 }), 'cluster "nope" not found'],
      [call('DeregisterEndpoint', { cluster: 'nope', address: '10.0.0.1', port: 1 }), 'cluster "nope" not found'],
    ];
    for (const [p, details] of cases) {
      const err = await failure(p);
      expect({ code: err.code, details: err.details }).toEqual({ code: grpc.status.NOT_FOUND, details });
    }
  });

  it('lists proxies with their ACK/NACK ledger, and alerts by state and level', async () => {
    const { proxies } = await call('ListProxies', {});
    expect(proxies).toHaveLength(1);
    expect(proxies[0]).toMatchObject({
      node_id: 'envoy-1',
      protocol: 'XDS_PROTOCOL_DELTA',
      peer: 'ipv4:127.0.0.1:40000',
      connected_at_ms: T0,
      closed_at_ms: 0,
    });
    expect(proxies[0]!.types[0]).toMatchObject({
      type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      sent_version: 'v3',
      acked_version: 'v2',
      publish_to_ack_ms: 14,
      nacks: 1,
      last_nack: { version: 'v3', message: 'Proto constraint validation failed', code: 3, at_ms: T0 + 5, resources: ['demo'] },
    });

    expect((await call('ListAlerts', {})).alerts.map((a) => a.id)).toEqual(['a1', 'a2']);
    expect((await call('ListAlerts', { state: 'ALERT_STATE_FIRING' })).alerts.map((a) => a.id)).toEqual(['a1']);
    const critical = await call('ListAlerts', { level: 'ALERT_LEVEL_CRITICAL', from_ms: T0 + 1 });
    expect(critical.alerts).toHaveLength(1);
    expect(critical.alerts[0]).toMatchObject({
      id: 'a2',
      level: 'ALERT_LEVEL_CRITICAL',
      state: 'ALERT_STATE_RESOLVED',
      resolved_at_ms: T0 + 10,
      acknowledged_at_ms: 0,
    });
  });
});

describe('registration', () => {
  it('registers and deregisters idempotently', async () => {
    const req = { cluster: 'demo', address: '10.1.2.3', port: 8080, weight: 5, zone: 'b', region: 'eu', metadata: { team: 'payments' } };
    const first = await call('RegisterEndpoint', req);
    expect(first.created).toBe(true);
    expect(first.endpoint).toMatchObject({ key: 'demo/10.1.2.3:8080', source: 'ENDPOINT_SOURCE_RUNTIME', target_weight: 5, zone: 'b' });
    const again = await call('RegisterEndpoint', req);
    expect(again.created).toBe(false);
    expect(again.endpoint?.key).toBe('demo/10.1.2.3:8080');
    expect((await call('GetEndpoint', { key: 'demo/10.1.2.3:8080' })).endpoint?.source).toBe('ENDPOINT_SOURCE_RUNTIME');
    expect((await call('ListEndpoints', { cluster: 'demo' })).endpoints).toHaveLength(3);

    expect(await call('DeregisterEndpoint', { cluster: 'demo', address: '10.1.2.3', port: 8080 })).toEqual({ removed: true });
    expect(await call('DeregisterEndpoint', { cluster: 'demo', address: '10.1.2.3', port: 8080 })).toEqual({ removed: false });
    expect((await failure(call('GetEndpoint', { key: 'demo/10.1.2.3:8080' }))).code).toBe(grpc.status.NOT_FOUND);
  });

  it('passes on the typed refusal of Operations (a config endpoint cannot be deregistered)', async () => {
    const err = await failure(call('DeregisterEndpoint', { cluster: 'demo', address: '127.0.0.1', port: 9101 }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^address: demo\/127\.0\.0\.1:9101 is declared in the configuration file/);
  });

  it('hides an untyped failure of Operations behind INTERNAL', async () => {
    ops.failWith = new Error('db password=hunter2');
    try {
      const err = await failure(call('ListClusters', {}));
      expect({ code: err.code, details: err.details }).toEqual({ code: grpc.status.INTERNAL, details: 'internal error' });
    } finally {
      ops.failWith = undefined;
    }
  });
});

describe('malformed requests', () => {
  const reg = { cluster: 'demo', address: '10.0.0.9', port: 81 };
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ['register: no cluster', () => call('RegisterEndpoint', { ...reg, cluster: '' }), 'cluster: required'],
    ['register: bad cluster', () => call('RegisterEndpoint', { ...reg, cluster: 'no spaces' }), 'cluster: letters, digits'],
    ['register: no address', () => call('RegisterEndpoint', { ...reg, address: '' }), 'address: required'],
    ['register: bad address', () => call('RegisterEndpoint', { ...reg, address: 'not_a host' }), 'address: must be an IP address (IPv4 dotted quad or IPv6'],
    // issue 10 finding 2: a host name would be published in EDS and NACKed by Envoy
    ['register: host name', () => call('RegisterEndpoint', { ...reg, address: 'localhost' }), 'address: must be an IP address, not a host name'],
    ['register: port 0', () => call('RegisterEndpoint', { ...reg, port: 0 }), 'port: must be 1..65535, got 0'],
    ['register: port 70000', () => call('RegisterEndpoint', { ...reg, port: 70000 }), 'port: must be 1..65535, got 70000'],
    ['register: weight', () => call('RegisterEndpoint', { ...reg, weight: 1001 }), 'weight: must be an integer 1..1000'],
    ['register: zone', () => call('RegisterEndpoint', { ...reg, zone: 'z'.repeat(101) }), 'zone: must be at most 100 characters'],
    ['register: metadata key', () => call('RegisterEndpoint', { ...reg, metadata: { 'a b': 'c' } }), 'metadata["a b"]: key must be'],
    ['deregister: port', () => call('DeregisterEndpoint', { cluster: 'demo', address: 'h', port: 0 }), 'port: must be 1..65535, got 0'],
    ['deregister: address', () => call('DeregisterEndpoint', { cluster: 'demo', address: '', port: 1 }), 'address: required'],
    ['get: nothing', () => call('GetEndpoint', {}), 'key: required'],
    ['get: bad key', () => call('GetEndpoint', { key: 'demo-127.0.0.1-80' }), 'key: must be cluster/address:port'],
    ['get: key and parts', () => call('GetEndpoint', { key: 'demo/h:1', port: 1 }), 'key: give either key or cluster + address + port'],
    ['get: history_limit', () => call('GetEndpoint', { key: 'demo/h:1', history_limit: 200_000 }), 'history_limit: must be 0..100000'],
    ['get: window', () => call('GetEndpoint', { key: 'demo/h:1', from_ms: 10, to_ms: 5 }), 'to_ms: must not be before from_ms'],
    ['list endpoints: cluster', () => call('ListEndpoints', { cluster: '../etc' }), 'cluster: letters, digits'],
    ['list endpoints: status', () => call('ListEndpoints', { status: 42 as never }), 'status: unknown value 42'],
    ['list alerts: level', () => call('ListAlerts', { level: 9 as never }), 'level: unknown value 9'],
    ['list alerts: from_ms', () => call('ListAlerts', { from_ms: -1 }), 'from_ms: must be milliseconds since the epoch'],
  ];

  it.each(cases)('%s → INVALID_ARGUMENT naming the field', async (_name, send, prefix) => {
    const before = ops.calls.filter((c) => c === 'register' || c === 'deregister' || c === 'history').length;
    const err = await failure(send());
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details.startsWith(prefix), err.details).toBe(true);
    // Refused before Operations was asked to do anything.
    expect(ops.calls.filter((c) => c === 'register' || c === 'deregister' || c === 'history').length).toBe(before);
  });

  it('refuses bytes that are not a request', async () => {
    const err = await failure(
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          '/healthmesh.v1.Status/RegisterEndpoint',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0xff, 0xff, 0xff]),
          bearer(TEST_TOKENS.operator),
          { deadline: Date.now() + 5000 },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      ),
    );
    expect({ code: err.code, details: err.details }).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'request: not a valid healthmesh.v1.RegisterEndpointRequest',
    });
  });
});

describe('Watch', () => {
  it('sends the current state, SYNCED, then live changes of the watched cluster only', async () => {
    const w = watch({ cluster: 'demo' });
    await waitFor(() => w.synced() >= 0, { timeoutMs: 5000, intervalMs: 10, what: 'SYNCED' });
    const initial = w.events.slice(0, w.synced() + 1);
    expect(initial.map((e) => e.event)).toEqual(['cluster', 'endpoint', 'endpoint', 'synced']);
    expect(initial.at(-1)).toMatchObject({ at_ms: T0, synced: { clusters: 1, endpoints: 2 } });
    expect(
      initial
        .filter((e) => e.event === 'endpoint')
        .map((e) => (e as { endpoint: { key: string } }).endpoint.key)
        .sort(),
    ).toEqual(['demo/127.0.0.1:9101', 'demo/127.0.0.1:9102']);

    ops.update('other/10.0.0.5:80', { status: 'UNHEALTHY', health: 'UNHEALTHY' });
    ops.update('demo/127.0.0.1:9102', { status: 'HEALTHY', circuit: 'half-open', health: 'HEALTHY', weight: 10, reasons: [] });
    await call('RegisterEndpoint', { cluster: 'demo', address: '10.9.9.9', port: 1 });
    await call('DeregisterEndpoint', { cluster: 'demo', address: '10.9.9.9', port: 1 });
    ops.emit({ kind: 'alert', at: T0 + 1, alert: alert('a3') });
    ops.emit({ kind: 'alert', at: T0 + 2, alert: alert('a4', { cluster: 'other', subject: 'other' }) });

    await waitFor(() => w.events.some((e) => e.event === 'alert'), { timeoutMs: 5000, intervalMs: 10, what: 'the alert event' });
    const live = w.events.slice(w.synced() + 1);
    expect(live.map((e) => e.event)).toEqual(['endpoint', 'cluster', 'endpoint', 'cluster', 'endpoint_removed', 'cluster', 'alert']);
    expect(live[0]).toMatchObject({
      event: 'endpoint',
      endpoint: { key: 'demo/127.0.0.1:9102', health: 'HEALTH_STATUS_HEALTHY', circuit: 'CIRCUIT_STATE_HALF_OPEN', weight: 10 },
      previous: { status: 'HEALTH_STATUS_UNHEALTHY', circuit: 'CIRCUIT_STATE_OPEN', health: 'HEALTH_STATUS_UNHEALTHY', weight: 0 },
    });
    expect(live[1]).toMatchObject({ cluster: { name: 'demo', healthy: 2 } });
    expect(live[2]).toMatchObject({ endpoint: { key: 'demo/10.9.9.9:1', source: 'ENDPOINT_SOURCE_RUNTIME' }, previous: null });
    expect(live[4]).toMatchObject({ endpoint_removed: { key: 'demo/10.9.9.9:1', cluster: 'demo' } });
    expect(live[6]).toMatchObject({ alert: { id: 'a3', level: 'ALERT_LEVEL_WARNING', state: 'ALERT_STATE_FIRING' } });
    // Nothing about the other cluster arrived.
    expect(JSON.stringify(live)).not.toContain('other');

    w.stream.cancel();
    await w.ended;
    await waitFor(() => service.activeWatches === 0 && ops.watchers === 0, { timeoutMs: 5000, intervalMs: 10, what: 'the cancelled watch to unsubscribe' });
  });

  it('refuses an unknown or malformed cluster', async () => {
    const unknown = watch({ cluster: 'nope' });
    await unknown.ended;
    expect({ code: unknown.state.error?.code, details: unknown.state.error?.details }).toEqual({
      code: grpc.status.NOT_FOUND,
      details: 'cluster "nope" not found',
    });
    const bad = watch({ cluster: 'a b' });
    await bad.ended;
    expect(bad.state.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.state.error?.details).toMatch(/^cluster: /);
  });

  it('keeps a reading client in step under load: same-subject events coalesce, the final state arrives', async () => {
    const w = watch({});
    await waitFor(() => w.synced() >= 0, { timeoutMs: 5000, intervalMs: 10, what: 'SYNCED' });
    const keys = Array.from({ length: 40 }, (_, i) => `demo/10.2.0.${i}:80`);
    const base = ops.endpoints({ cluster: 'demo' })[0] as EndpointSnapshot;
    for (let round = 1; round <= 200; round++) {
      for (const [i, key] of keys.entries()) {
        ops.emit({ kind: 'endpoint', at: T0 + round, endpoint: { ...base, key, address: `10.2.0.${i}`, port: 80, score: round } });
      }
      if (round % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    const latest = () => {
      const m = new Map<string, number>();
      for (const e of w.events) if (e.endpoint) m.set(e.endpoint.key, e.endpoint.score);
      return m;
    };
    await waitFor(() => keys.every((k) => latest().get(k) === 200), { timeoutMs: 10_000, intervalMs: 20, what: 'the final score of every endpoint' });
    expect(w.state.ended).toBe(false);
    w.stream.cancel();
    await w.ended;
  });

  it('closes a client that does not read with RESOURCE_EXHAUSTED, while a reading one keeps up', async () => {
    // Its own connection, so only HTTP/2 flow control and the socket stand between it and the server.
    const slow = createStatusClient(target, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      const reader = watch({});
      const stream = slow.Watch({});
      const events: WatchEventWire[] = [];
      // Reads a little (grpc-js then pauses the HTTP/2 stream), then stops reading: flow control stalls the server.
      stream.on('data', (ev: WatchEventWire) => events.push(ev));
      stream.pause();
      await waitFor(() => service.activeWatches === 2 && reader.synced() >= 0, { timeoutMs: 5000, intervalMs: 10, what: 'both watches to open' });
      const message = Array.from({ length: 16 }, (_, i) => `reason ${i} ${'x'.repeat(240)}`).join(' ');
      const alerts = () => reader.events.filter((e) => e.event === 'alert').length;
      let sent = 0;
      // Distinct subjects (alerts) cannot coalesce; ~4 KB each, so the socket and HTTP/2 windows of the
      // paused client fill up. Each batch waits until the reading client has it all: it is never behind.
      while (service.activeWatches === 2 && sent < 20_000) {
        for (let i = 0; i < 8; i++, sent++) ops.emit({ kind: 'alert', at: T0, alert: alert(`flood-${sent}`, { message }) });
        await waitFor(() => alerts() === sent, { timeoutMs: 10_000, intervalMs: 1, what: `the reader to get all ${sent} alerts` });
      }
      expect(service.activeWatches).toBe(1);
      expect(reader.state.ended).toBe(false);

      // The paused client still gets what was already in flight, then the reason.
      const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      stream.resume();
      const err = await ended;
      expect({ code: err.code, details: err.details }).toEqual({
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: `watch: more than ${BACKLOG} events behind; call Watch again to resync`,
      });
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThan(sent);
      reader.stream.cancel();
      await reader.ended;
      await waitFor(() => service.activeWatches === 0 && ops.watchers === 0, { timeoutMs: 5000, intervalMs: 10, what: 'every watch to unsubscribe' });
    } finally {
      slow.close();
    }
  });
});

describe('self services', () => {
  const healthClient = () =>
    new (grpc.makeClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health'))(target, grpc.credentials.createInsecure());
  const check = (c: grpc.Client, svc: string) =>
    new Promise<{ status: string }>((resolve, reject) =>
      (c as unknown as { check: (r: object, o: object, cb: (e: Error | null, r: { status: string }) => void) => void }).check(
        { service: svc },
        { deadline: Date.now() + 5000 },
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );

  it('grpc.health.v1 says SERVING for healthmesh and for healthmesh.v1.Status', async () => {
    const c = healthClient();
    try {
      await waitFor(async () => (await check(c, '')).status === 'SERVING', { timeoutMs: 5000, intervalMs: 20, what: 'overall SERVING' });
      expect(await check(c, 'healthmesh.v1.Status')).toEqual({ status: 'SERVING' });
    } finally {
      c.close();
    }
  });

  it('is NOT_SERVING until Operations is ready and again after stop()', async () => {
    const notYet = new FakeOperations({ clusters: ['demo'] });
    notYet.isReady = false;
    const s = new grpc.Server();
    const mine = registerSelfServices(s, { ops: notYet, logger: silentLogger(), pollMs: 10 });
    const port = await bind(s);
    const c = new (grpc.makeClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health'))(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
    try {
      expect(await check(c, 'healthmesh.v1.Status')).toEqual({ status: 'NOT_SERVING' });
      notYet.isReady = true;
      await waitFor(async () => (await check(c, '')).status === 'SERVING', { timeoutMs: 5000, intervalMs: 10, what: 'SERVING once ready' });
      mine.stop();
      mine.stop();
      expect(await check(c, '')).toEqual({ status: 'NOT_SERVING' });
      expect(await check(c, 'healthmesh.v1.Status')).toEqual({ status: 'NOT_SERVING' });
    } finally {
      c.close();
      await shutdown(s);
    }
  });

  it('server reflection lists healthmesh.v1.Status, healthmesh.v1.Agent and grpc.health.v1.Health and describes them', async () => {
    const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto/grpc/reflection/v1alpha/reflection.proto');
    const def = protoLoader.loadSync(reflectionProto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const Ctor = (grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1alpha: { ServerReflection: grpc.ServiceClientConstructor } } } }).grpc
      .reflection.v1alpha.ServerReflection;
    const c = new Ctor(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      ServerReflectionInfo(): grpc.ClientDuplexStream<object, Record<string, unknown>>;
    };
    try {
      const ask = (req: object) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const stream = c.ServerReflectionInfo();
          stream.once('data', (res: Record<string, unknown>) => {
            resolve(res);
            stream.end();
          });
          stream.once('error', reject);
          stream.write(req);
        });
      const list = (await ask({ list_services: '' })) as { list_services_response: { service: Array<{ name: string }> } };
      const names = list.list_services_response.service.map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['healthmesh.v1.Status', 'healthmesh.v1.Agent', 'grpc.health.v1.Health']));

      const file = (await ask({ file_containing_symbol: 'healthmesh.v1.Status' })) as { file_descriptor_response: { file_descriptor_proto: Buffer[] } };
      const text = file.file_descriptor_response.file_descriptor_proto.map((b) => Buffer.from(b).toString('latin1')).join('\n');
      // (@grpc/reflection serves one combined file per package, e.g. healthmesh_v1.proto.)
      for (const symbol of ['RegisterEndpoint', 'WatchEvent', 'HEALTH_STATUS_DRAINING', 'publish_to_ack_ms']) expect(text).toContain(symbol);
    } finally {
      c.close();
    }
  });
});

describe('stop()', () => {
  it('ends open Watch streams with UNAVAILABLE and refuses new ones', async () => {
    const a = watch({});
    const b = watch({ cluster: 'other' });
    await waitFor(() => a.synced() >= 0 && b.synced() >= 0, { timeoutMs: 5000, intervalMs: 10, what: 'both watches to sync' });
    service.stop();
    service.stop();
    await Promise.all([a.ended, b.ended]);
    for (const w of [a, b]) expect(w.state.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(service.activeWatches).toBe(0);
    expect(ops.watchers).toBe(0);
    const late = watch({});
    await late.ended;
    expect(late.state.error?.code).toBe(grpc.status.UNAVAILABLE);
    // Unary queries still answer until the server itself goes away.
    expect((await call('ListClusters', {})).clusters).toHaveLength(2);
  });
});
