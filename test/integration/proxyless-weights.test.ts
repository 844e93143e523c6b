import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { TYPE } from '../../src/xds/protos.js';
import { AdsTestClient } from '../support/ads-client.js';
import { echoClientCtor, startGrpcBackends, type GrpcBackend } from '../support/backends.js';
import { echoCaller } from '../support/echo-client.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 11, "Proxyless clients get weights too": a real @grpc/grpc-js-xds client (weighted-locality round
 * robin, endpoint weights ignored) receives endpoint weights as locality weights, while an Envoy stream on
 * the same control plane keeps the usual one-locality shape.
 */
let cp: ControlPlane;
let port: number;
let backends: GrpcBackend[];
let client: grpc.Client;
const ads: AdsTestClient[] = [];

const { tally } = echoCaller(() => client);

interface Cla {
  endpoints: Array<{
    locality?: Record<string, string>;
    load_balancing_weight?: { value: number };
    lb_endpoints: Array<{ load_balancing_weight?: { value: number } }>;
  }>;
}

beforeAll(async () => {
  backends = await startGrpcBackends(3);
  const config = validateConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 10 },
    listeners: [{ name: 'echo', kind: 'api', routeConfig: 'echo_route' }],
    routes: [{ name: 'echo_route', virtualHosts: [{ name: 'echo', domains: ['*'], routes: [{ prefix: '/', cluster: 'echo_backends' }] }] }],
    // g1 has weight 3, g2 and g3 weight 1: g1 should get 3/(3+1+1) = 60% of the calls.
    clusters: [{ name: 'echo_backends', endpoints: backends.map((b, i) => ({ address: '127.0.0.1', port: b.port, weight: i === 0 ? 3 : 1 })) }],
  });
  cp = createControlPlane(config);
  ({ port } = await cp.start());
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'proxyless-weights', cluster: 'tests', locality: {} },
  });
  grpcXds.register();
  client = new (echoClientCtor())('xds:///echo', grpc.credentials.createInsecure());
});

afterAll(async () => {
  for (const c of ads) c.close();
  client?.close();
  await cp?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
});

async function edsOver(protocol: 'sotw' | 'delta', userAgent: string): Promise<{ version: string; cla: Cla }> {
  const c = new AdsTestClient(port, protocol);
  ads.push(c);
  const node = { id: `probe-${protocol}-${userAgent}`, user_agent_name: userAgent };
  if (protocol === 'sotw') c.send({ node, type_url: TYPE.endpoint, resource_names: ['echo_backends'] });
  else c.send({ node, type_url: TYPE.endpoint, resource_names_subscribe: ['echo_backends'] });
  const r = await c.next(TYPE.endpoint);
  expect(r.resources).toHaveLength(1);
  return { version: r.resources[0]!.version ?? r.version, cla: r.resources[0]!.message as unknown as Cla };
}

describe('proxyless gRPC clients get endpoint weights as locality weights', () => {
  // grpc-js picks a locality at random by weight: 1000 calls put one standard deviation at ~1.5 points.
  it('sends a weight-3 endpoint 3/(3+1+1) = 60% of 1000 calls (±5 points)', async () => {
    await waitFor(async () => Object.keys(await tally(15)).length === 3, { timeoutMs: 10_000, what: 'all three backends in rotation' });
    const counts = await tally(1000);
    const share = (counts.g1 ?? 0) / 1000;
    console.log(`proxyless weights: ${JSON.stringify(counts)}; g1 share ${(share * 100).toFixed(1)}% (expected 60%)`);
    expect(share).toBeGreaterThanOrEqual(0.55);
    expect(share).toBeLessThanOrEqual(0.65);
    for (const g of ['g2', 'g3']) expect((counts[g] ?? 0) / 1000).toBeGreaterThan(0.13);
    const proxy = cp.ledger.proxies().find((p) => p.nodeId === 'proxyless-weights');
    expect(Object.values(proxy?.types ?? {}).every((t) => t.ackedVersion && !t.lastNack)).toBe(true);
  });

  it('serves the one-endpoint-per-locality shape to gRPC user agents (SotW and Delta) and the usual shape to Envoy', async () => {
    const envoySotw = await edsOver('sotw', 'envoy');
    const envoyDelta = await edsOver('delta', 'envoy');
    const goDelta = await edsOver('delta', 'gRPC Go');
    const nodeSotw = await edsOver('sotw', 'gRPC Node Pure JS');
    // Envoy: one locality (no zones configured) holding the three endpoints with their weights.
    for (const e of [envoySotw, envoyDelta]) {
      expect(e.cla.endpoints).toHaveLength(1);
      const w = e.cla.endpoints[0]!.lb_endpoints.map((l) => l.load_balancing_weight?.value ?? 0).sort((a, b) => a - b);
      expect(w[0]).toBeGreaterThan(0);
      expect(w).toEqual([w[0], w[0], 3 * w[0]!]);
    }
    // gRPC: three localities, each weighted by its endpoint's weight.
    for (const g of [goDelta, nodeSotw]) {
      expect(g.cla.endpoints).toHaveLength(3);
      const weights = g.cla.endpoints.map((l) => l.load_balancing_weight?.value ?? 0).sort((a, b) => a - b);
      expect(weights[2]).toBe(3 * weights[0]!);
      expect(weights[1]).toBe(weights[0]);
    }
    expect(goDelta.version).not.toBe(envoyDelta.version);
  });
});
