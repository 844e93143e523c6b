import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { TYPE } from '../../src/xds/protos.js';
import { adsRig } from '../support/ads-rig.js';
import { AdsTestClient } from '../support/ads-client.js';
import { waitFor } from '../support/wait.js';

const node = (id: string) => ({ id, cluster: 'test' });

function baseConfig(over: Partial<Record<string, unknown>> = {}): Readonly<Config> {
  return validateConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 10, ...((over.xds as object) ?? {}) },
    listeners: [{ name: 'l1', port: 10000, routeConfig: 'r1' }],
    routes: [
      {
        name: 'r1',
        virtualHosts: [
          {
            name: 'vh',
            routes: [
              { prefix: '/a', cluster: 'c1' },
              { prefix: '/b', cluster: 'c2' },
            ],
          },
        ],
      },
    ],
    clusters: [
      {
        name: 'c1',
        endpoints: [
          { address: '127.0.0.1', port: 9001 },
          { address: '127.0.0.1', port: 9002 },
        ],
      },
      { name: 'c2', endpoints: [{ address: '127.0.0.1', port: 9003 }] },
    ],
    ...over,
  });
}

const rig = adsRig();

const start = (config = baseConfig()): Promise<number> => rig.start(config);
const client = (port: number, protocol: 'sotw' | 'delta'): AdsTestClient => rig.client(port, protocol);

describe('ADS State-of-the-World', () => {
  it('serves wildcard CDS, named EDS, records ACKs, and re-sends only the changed endpoints', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('n1'), type_url: TYPE.cluster });
    const cds = await c.next(TYPE.cluster);
    expect(cds.resources.map((r) => r.name)).toEqual(['c1', 'c2']);
    c.ack(cds);
    c.send({ type_url: TYPE.endpoint, resource_names: ['c1', 'c2'] });
    const eds = await c.next(TYPE.endpoint);
    expect(eds.resources.map((r) => r.name).sort()).toEqual(['c1', 'c2']);
    c.ack(eds, { resource_names: ['c1', 'c2'] });

    await waitFor(() => rig.cp.ledger.proxies()[0]?.types[TYPE.endpoint]?.ackedVersion === eds.version, { timeoutMs: 10_000, what: 'EDS ACK in ledger' });
    const proxy = rig.cp.ledger.proxies()[0]!;
    expect(proxy.nodeId).toBe('n1');
    expect(proxy.protocol).toBe('sotw');
    expect(proxy.types[TYPE.cluster]?.ackedVersion).toBe(cds.version);
    expect(proxy.types[TYPE.endpoint]?.publishToAckMs).toBeGreaterThanOrEqual(0);

    rig.cp.topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, health: 'UNHEALTHY' });
    const { marker: update, before: beforeUpdate } = await c.until(TYPE.endpoint);
    expect(AdsTestClient.types(beforeUpdate)).toEqual([]); // an endpoint change pushes no CDS
    expect(update.resources.map((r) => r.name)).toEqual(['c1']);
    expect(Number(update.version)).toBeGreaterThan(Number(eds.version));
    const lb = (
      update.resources[0]!.message as {
        endpoints: Array<{ lb_endpoints: Array<{ health_status: string; endpoint: { address: { socket_address: { port_value: number } } } }> }>;
      }
    ).endpoints.flatMap((e) => e.lb_endpoints);
    expect(lb.find((e) => e.endpoint.address.socket_address.port_value === 9001)?.health_status).toBe('UNHEALTHY');
    // Nothing else follows it: a later, unrelated endpoint change is the next response, and no CDS came before it.
    c.ack(update, { resource_names: ['c1', 'c2'] });
    rig.cp.topology.setEndpoint('c2', { address: '127.0.0.1', port: 9003, weight: 5 });
    const { marker, before } = await c.until(TYPE.endpoint);
    expect(marker.resources.map((r) => r.name)).toEqual(['c2']);
    expect(AdsTestClient.types(before)).toEqual([]);
  });

  it('records a NACK with its error text, does not re-send the rejected version, keeps serving', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('n-nack'), type_url: TYPE.cluster });
    const first = await c.next(TYPE.cluster);
    c.ack(first);
    // Pushes are immediate after a quiet period: let the ACK land first (an ACK of an older nonce is stale).
    await waitFor(() => rig.cp.ledger.proxies()[0]?.types[TYPE.cluster]?.ackedVersion === first.version, { timeoutMs: 10_000, what: 'first ACK in ledger' });
    rig.cp.reload(
      baseConfig({
        clusters: [
          { name: 'c1', connectTimeoutMs: 2500, endpoints: [] },
          { name: 'c2', endpoints: [] },
        ],
      }),
    );
    const second = await c.next(TYPE.cluster);
    c.nack(second, 'cluster c1: rejected for the test');
    await waitFor(() => rig.cp.ledger.proxies()[0]?.types[TYPE.cluster]?.lastNack, { timeoutMs: 10_000, what: 'NACK in ledger' });
    const t = rig.cp.ledger.proxies()[0]!.types[TYPE.cluster]!;
    expect(t.lastNack).toMatchObject({ message: 'cluster c1: rejected for the test', version: second.version, resources: ['c1', 'c2'] });
    expect(t.ackedVersion).toBe(first.version);
    // The rejected version is not re-sent: the next CDS the client gets is a later change the test makes.
    rig.cp.reload(
      baseConfig({
        clusters: [
          { name: 'c1', connectTimeoutMs: 3000, endpoints: [] },
          { name: 'c2', endpoints: [] },
        ],
      }),
    );
    const { marker, before } = await c.until(TYPE.cluster);
    expect(AdsTestClient.types(before)).toEqual([]);
    expect(marker.version).not.toBe(second.version);
    expect((marker.resources.find((r) => r.name === 'c1')!.message as { connect_timeout?: { seconds?: string } }).connect_timeout?.seconds).toBe('3');
  });

  it('remembers a subscription to a resource that does not exist yet and answers when it appears', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('n2'), type_url: TYPE.endpoint, resource_names: ['c3'] });
    // No EDS answer for a cluster that does not exist: the stream answers a later CDS request first.
    c.send({ type_url: TYPE.cluster });
    const { before } = await c.until(TYPE.cluster);
    expect(AdsTestClient.types(before)).toEqual([]);
    const cfg = baseConfig();
    rig.cp.reload(
      validateConfig({
        ...structuredClone(cfg),
        clusters: [...structuredClone(cfg.clusters), { name: 'c3', endpoints: [{ address: '127.0.0.1', port: 9009 }] }],
      }),
    );
    const eds = await c.next(TYPE.endpoint);
    expect(eds.resources.map((r) => r.name)).toEqual(['c3']);
  });

  it('removes a cluster only after the routes that used it have been updated and ACKed (make-before-break)', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('n3'), type_url: TYPE.cluster });
    c.ack(await c.next(TYPE.cluster));
    c.send({ type_url: TYPE.route, resource_names: ['r1'] });
    c.ack(await c.next(TYPE.route), { resource_names: ['r1'] });

    rig.cp.reload(
      baseConfig({
        routes: [{ name: 'r1', virtualHosts: [{ name: 'vh', routes: [{ prefix: '/', cluster: 'c1' }] }] }],
        clusters: [{ name: 'c1', endpoints: [] }],
      }),
    );
    const rds = await c.next(TYPE.route);
    // No CDS without c2 may arrive before the route update is ACKed.
    expect(c.received.filter((r) => r.typeUrl === TYPE.cluster && !r.resources.some((x) => x.name === 'c2'))).toHaveLength(0);
    c.ack(rds, { resource_names: ['r1'] });
    const cds = await c.next(TYPE.cluster);
    expect(cds.resources.map((r) => r.name)).toEqual(['c1']);
  });

  it('re-sends a cluster load assignment when its cluster changes (Envoy re-warms it)', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('n4'), type_url: TYPE.cluster });
    c.ack(await c.next(TYPE.cluster));
    c.send({ type_url: TYPE.endpoint, resource_names: ['c1', 'c2'] });
    c.ack(await c.next(TYPE.endpoint), { resource_names: ['c1', 'c2'] });
    const cfg = structuredClone(baseConfig()) as { clusters: Array<{ connectTimeoutMs: number }> };
    cfg.clusters[0]!.connectTimeoutMs = 3000;
    rig.cp.reload(validateConfig(cfg));
    const cds = await c.next(TYPE.cluster);
    expect(cds.resources.map((r) => r.name)).toEqual(['c1', 'c2']);
    const eds = await c.next(TYPE.endpoint);
    expect(eds.resources.map((r) => r.name)).toEqual(['c1']);
  });
});

describe('ADS Delta', () => {
  it('sends only changed resources and removed_resources, honouring initial_resource_versions', async () => {
    const port = await start();
    const probe = client(port, 'delta');
    probe.send({ node: node('probe'), type_url: TYPE.cluster });
    const all = await probe.next(TYPE.cluster);
    const c1 = all.resources.find((r) => r.name === 'c1')!;

    const c = client(port, 'delta');
    c.send({ node: node('n5'), type_url: TYPE.cluster, initial_resource_versions: { c1: c1.version!, gone: 'v0' } });
    const first = await c.next(TYPE.cluster);
    expect(first.resources.map((r) => r.name)).toEqual(['c2']);
    expect(first.removed).toEqual(['gone']);
    c.ack(first);

    c.send({ type_url: TYPE.endpoint, resource_names_subscribe: ['c1', 'c2'] });
    const eds = await c.next(TYPE.endpoint);
    expect(eds.resources.map((r) => r.name).sort()).toEqual(['c1', 'c2']);
    c.ack(eds);
    rig.cp.topology.setEndpoint('c2', { address: '127.0.0.1', port: 9003, weight: 7 });
    const upd = await c.next(TYPE.endpoint);
    expect(upd.resources.map((r) => r.name)).toEqual(['c2']);
    expect(upd.removed).toEqual([]);

    c.ack(upd);
    c.send({ type_url: TYPE.endpoint, resource_names_unsubscribe: ['c2'] });
    rig.cp.topology.setEndpoint('c2', { address: '127.0.0.1', port: 9003, weight: 9 });
    // A later change to c1, still subscribed, is the marker: c2's change is not sent before it (nor with it).
    rig.cp.topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, weight: 3 });
    const { marker, before } = await c.until(TYPE.endpoint);
    expect(AdsTestClient.types(before)).toEqual([]);
    expect(marker.resources.map((r) => r.name)).toEqual(['c1']);
  });

  it('removes a deleted cluster with removed_resources', async () => {
    const port = await start();
    const c = client(port, 'delta');
    c.send({ node: node('n6'), type_url: TYPE.cluster });
    c.ack(await c.next(TYPE.cluster));
    rig.cp.reload(
      baseConfig({
        routes: [{ name: 'r1', virtualHosts: [{ name: 'vh', routes: [{ prefix: '/', cluster: 'c1' }] }] }],
        clusters: [{ name: 'c1', endpoints: [] }],
      }),
    );
    const upd = await c.next(TYPE.cluster);
    expect(upd.removed).toEqual(['c2']);
  });
});

describe('bad input is contained', () => {
  it('refuses a stream without node.id with INVALID_ARGUMENT', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ type_url: TYPE.cluster });
    const status = await c.closed;
    expect(status.code).toBe(3);
    expect(status.details).toMatch(/node\.id/);
  });

  it('ignores an unknown type_url but keeps the stream and records it', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('n7'), type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' });
    c.send({ type_url: TYPE.cluster });
    expect((await c.next(TYPE.cluster)).resources).toHaveLength(2);
    expect(rig.cp.ledger.proxies()[0]?.unknownTypes).toEqual(['type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret']);
  });

  it('rejects an oversized request with RESOURCE_EXHAUSTED and keeps serving others', async () => {
    const port = await start(baseConfig({ xds: { listen: '127.0.0.1:0', maxReceiveMessageBytes: 4096 } }));
    const big = client(port, 'sotw');
    big.send({ node: node('big'), type_url: TYPE.endpoint, resource_names: Array.from({ length: 500 }, (_, i) => `cluster-${i}`) });
    expect((await big.closed).code).toBe(8);
    const ok = client(port, 'sotw');
    ok.send({ node: node('ok'), type_url: TYPE.cluster });
    expect((await ok.next(TYPE.cluster)).resources).toHaveLength(2);
  });

  it('closes a stream that NACKs in a storm', async () => {
    const port = await start(baseConfig({ xds: { listen: '127.0.0.1:0', debounceMs: 1, maxNacksPerMinute: 3 } }));
    const c = client(port, 'sotw');
    c.send({ node: node('storm'), type_url: TYPE.endpoint, resource_names: ['c1'] });
    for (let i = 0; i < 6; i++) {
      const r = await c.next(TYPE.endpoint).catch(() => undefined);
      if (!r) break;
      c.nack(r, `bad ${i}`, { resource_names: ['c1'] });
      rig.cp.topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, weight: i + 2 });
    }
    const status = await c.closed;
    expect(status.code).toBe(8);
    expect(status.details).toMatch(/NACK/);
  });

  it('a client that never reads is cut off without holding up the others', async () => {
    const endpoints = Array.from({ length: 3000 }, (_, i) => ({ address: '127.0.0.1', port: 20000 + i }));
    const port = await start(
      baseConfig({
        xds: { listen: '127.0.0.1:0', debounceMs: 1, stuckStreamTimeoutMs: 500 },
        clusters: [
          { name: 'c1', endpoints },
          { name: 'c2', endpoints: [] },
        ],
      }),
    );
    const stuck = rig.client(port, 'sotw', { 'grpc.http2.lookahead_bytes': 0 } as never);
    stuck.send({ node: node('stuck'), type_url: TYPE.endpoint, resource_names: ['c1'] });
    await stuck.next(TYPE.endpoint);
    (stuck as unknown as { call: { pause(): void } }).call.pause();
    const healthy = client(port, 'sotw');
    healthy.send({ node: node('healthy'), type_url: TYPE.endpoint, resource_names: ['c1'] });
    await healthy.next(TYPE.endpoint);
    for (let i = 0; i < 60; i++) {
      rig.cp.topology.setEndpoint('c1', { address: '127.0.0.1', port: 20000 + i, weight: 2 + (i % 100) });
      rig.cp.topology.publishNow();
      const r = await healthy.next(TYPE.endpoint, 2000);
      healthy.ack(r, { resource_names: ['c1'] });
    }
    await waitFor(() => !rig.cp.ledger.proxies().some((p) => p.nodeId === 'stuck'), { timeoutMs: 10_000, what: 'stuck stream closed' });
    expect(rig.cp.ledger.proxies().map((p) => p.nodeId)).toEqual(['healthy']);
  });
});
