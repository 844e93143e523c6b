import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { AdsState, type ResponseOut } from '../../src/xds/ads-state.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { TYPE } from '../../src/xds/protos.js';
import { endpointsResource, isWeightBlindClient, proxylessEndpointsResource } from '../../src/xds/resources.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
import { Topology } from '../../src/xds/topology.js';
import { VersionClock } from '../../src/xds/versions.js';

/** The snapshot carries both EDS shapes; a stream picks one from its node's user agent (issue 11). */
const config = validateConfig({
  listeners: [{ name: 'l1', port: 10000, routeConfig: 'r1' }],
  routes: [{ name: 'r1', virtualHosts: [{ name: 'vh', routes: [{ prefix: '/', cluster: 'c1' }] }] }],
  clusters: [
    {
      name: 'c1',
      endpoints: [
        { address: '127.0.0.1', port: 9001, weight: 3 },
        { address: '127.0.0.1', port: 9002, zone: 'z' },
      ],
    },
    { name: 'c2', endpoints: [{ address: '127.0.0.1', port: 9003 }] },
  ],
});

function setup() {
  const cache = new SnapshotCache();
  const topology = new Topology(config, { cache, versions: new VersionClock(() => 1_000_000), logger: silentLogger(), debounceMs: 5, now: () => 1_000_000 });
  return { cache, topology };
}

function drain(s: AdsState, snapshot: Snapshot): ResponseOut[] {
  const out: ResponseOut[] = [];
  const done = new Set<ResponseOut['typeUrl']>();
  for (let r = s.next(snapshot, done); r; r = s.next(snapshot, done)) {
    out.push(r);
    done.add(r.typeUrl);
  }
  return out;
}

describe('isWeightBlindClient', () => {
  it('matches the user agents gRPC xDS clients hard-code, not Envoy', () => {
    for (const ua of ['gRPC Node Pure JS', 'gRPC Go', 'gRPC Java', 'gRPC C-core linux', 'gRPC C-core windows (python)'])
      expect(isWeightBlindClient(ua)).toBe(true);
    for (const ua of ['envoy', '', undefined, 'grpc-go', 'gRPC Rust']) expect(isWeightBlindClient(ua)).toBe(false);
  });
});

describe('Snapshot with both EDS shapes', () => {
  it("keeps Envoy's EDS byte-identical to endpointsResource and adds the proxyless shape, each encoded once", () => {
    const { topology } = setup();
    const snap = topology.publishNow()!;
    for (const c of ['c1', 'c2']) {
      const eps = topology.endpoints(c);
      const alone = buildSnapshot(undefined, [endpointsResource(c, eps)], '1', 0)!;
      expect(Buffer.from(snap.types[TYPE.endpoint].resources.get(c)!.any)).toEqual(Buffer.from(alone.types[TYPE.endpoint].resources.get(c)!.any));
      const proxyless = buildSnapshot(undefined, [{ ...proxylessEndpointsResource(c, eps), variant: undefined }], '1', 0)!;
      expect(Buffer.from(snap.proxylessEndpoints!.resources.get(c)!.any)).toEqual(Buffer.from(proxyless.types[TYPE.endpoint].resources.get(c)!.any));
    }
    // The shapes differ (one locality per endpoint), so do their content versions.
    expect(snap.proxylessEndpoints!.resources.get('c1')!.version).not.toBe(snap.types[TYPE.endpoint].resources.get('c1')!.version);
  });

  it('re-encodes only the changed cluster in both shapes, and nothing when nothing changed', () => {
    const { topology } = setup();
    const first = topology.publishNow()!;
    topology.changed('c2');
    expect(topology.publishNow()).toBeUndefined();
    topology.setEndpoint('c1', { address: '127.0.0.1', port: 9002, weight: 5 });
    const second = topology.publishNow()!;
    expect(second.proxylessEndpoints!.resources.get('c2')).toBe(first.proxylessEndpoints!.resources.get('c2'));
    expect(second.types[TYPE.endpoint].resources.get('c2')).toBe(first.types[TYPE.endpoint].resources.get('c2'));
    expect(second.proxylessEndpoints!.resources.get('c1')).not.toBe(first.proxylessEndpoints!.resources.get('c1'));
    expect(second.types[TYPE.endpoint].resources.get('c1')).not.toBe(first.types[TYPE.endpoint].resources.get('c1'));
  });

  for (const protocol of ['sotw', 'delta'] as const) {
    it(`${protocol}: a proxyless stream gets the proxyless entries, an Envoy stream the usual ones, and each ACK settles its own`, () => {
      const { topology } = setup();
      const snap = topology.publishNow()!;
      const envoy = new AdsState(protocol, { maxSubscriptions: 100 }, 'e');
      const grpc = new AdsState(protocol, { maxSubscriptions: 100 }, 'g');
      grpc.useVariant('proxyless');
      const req = protocol === 'sotw' ? { typeUrl: TYPE.endpoint, resourceNames: ['c1', 'c2'] } : { typeUrl: TYPE.endpoint, subscribe: ['c1', 'c2'] };
      envoy.onRequest(req);
      grpc.onRequest(req);
      const [e] = drain(envoy, snap);
      const [g] = drain(grpc, snap);
      expect(e!.resources).toEqual(['c1', 'c2'].map((n) => snap.types[TYPE.endpoint].resources.get(n)));
      expect(g!.resources).toEqual(['c1', 'c2'].map((n) => snap.proxylessEndpoints!.resources.get(n)));
      expect(g!.version).toBe(snap.proxylessEndpoints!.version);
      expect(grpc.onRequest({ typeUrl: TYPE.endpoint, nonce: g!.nonce, ...(protocol === 'sotw' ? { resourceNames: ['c1', 'c2'] } : {}) })).toMatchObject({
        kind: 'ack',
      });
      // ACKed: nothing more to send until the endpoints change, then only the changed cluster.
      expect(drain(grpc, snap)).toEqual([]);
      topology.setEndpoint('c2', { address: '127.0.0.1', port: 9003, weight: 7 });
      const next = topology.publishNow()!;
      const [g2] = drain(grpc, next);
      expect(g2!.resources.map((r) => r.name)).toEqual(['c2']);
      expect(g2!.resources[0]).toBe(next.proxylessEndpoints!.resources.get('c2'));
    });
  }

  it('the variant is chosen before the first request, once', () => {
    const s = new AdsState('sotw', { maxSubscriptions: 100 }, 't');
    s.onRequest({ typeUrl: TYPE.endpoint, resourceNames: ['c1'] });
    expect(() => s.useVariant('proxyless')).toThrow(/before the first request/);
  });

  it('a snapshot without the proxyless shape serves proxyless streams the Envoy shape', () => {
    const snap = buildSnapshot(undefined, [endpointsResource('c', [{ address: '10.0.0.1', port: 1, weight: 1, health: 'HEALTHY' }])], '1', 0)!;
    const s = new AdsState('delta', { maxSubscriptions: 100 }, 't');
    s.useVariant('proxyless');
    s.onRequest({ typeUrl: TYPE.endpoint, subscribe: ['c'] });
    expect(drain(s, snap)[0]!.resources[0]).toBe(snap.types[TYPE.endpoint].resources.get('c'));
  });
});
