import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { endpointKey } from '../../src/core/model.js';
import { echoClientCtor, startGrpcBackends, type GrpcBackend } from '../support/backends.js';
import { testConfig } from '../support/config.js';
import { echoCaller } from '../support/echo-client.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 11: a recovering endpoint ramps for a real @grpc/grpc-js-xds client too. Under weighted-locality
 * round robin one locality ignores endpoint weights (the endpoint would jump to its full share); with
 * the proxyless EDS shape the slow-start weight travels as its locality weight.
 */
let app: Healthmesh;
let backends: GrpcBackend[];
let client: grpc.Client;

const { tally } = echoCaller(() => client);

beforeAll(async () => {
  backends = await startGrpcBackends(3);
  const config = testConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 20 },
    health: {
      tickMs: 100,
      circuit: { baseOpenMs: 1000, probationSuccesses: 2 },
      recovery: { windowMs: 6000, steps: 6, minWeightPercent: 10 },
      weighting: { minDwellMs: 0 },
    },
    listeners: [{ name: 'echo', kind: 'api', routeConfig: 'echo_route' }],
    routes: [{ name: 'echo_route', virtualHosts: [{ name: 'echo', routes: [{ prefix: '/', cluster: 'echo_backends' }] }] }],
    clusters: [
      {
        name: 'echo_backends',
        healthCheck: { check: { grpc: { service: '' } }, intervalMs: 300, timeoutMs: 300, healthyThreshold: 2, unhealthyThreshold: 2 },
        endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })),
      },
    ],
  });
  app = createHealthmesh(config);
  const { xdsPort } = await app.start();
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'proxyless-ramp', locality: {} },
  });
  grpcXds.register();
  client = new (echoClientCtor())('xds:///echo', grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await app?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
});

interface Sample {
  fraction: number;
  circuit: string;
  share: number;
}

describe('proxyless gRPC: a recovering endpoint ramps over the slow-start window', () => {
  it('grows its share after a circuit trip and heal instead of jumping to its full share', async () => {
    await waitFor(async () => Object.keys(await tally(15)).length === 3, { timeoutMs: 10_000, what: 'all three backends in rotation' });
    const sick = backends[1]!;
    const key = endpointKey('echo_backends', '127.0.0.1', sick.port);
    const decision = () => app.engine.endpoint(key)!.decision;
    sick.setServing(false);
    await waitFor(() => decision().health === 'UNHEALTHY', { timeoutMs: 10_000, what: 'engine ejects g2' });
    await waitFor(async () => !(await tally(12)).g2, { timeoutMs: 10_000, what: 'the client to stop calling g2' });

    sick.setServing(true);
    // Sample g2's share of 60 calls at a time, with the weight fraction the engine grants it, until it has
    // been at full weight for a few samples.
    const samples: Sample[] = [];
    let fullSamples = 0;
    const deadline = Date.now() + 40_000;
    while (fullSamples < 10 && Date.now() < deadline) {
      const d = decision();
      const counts = await tally(60);
      samples.push({ fraction: d.weightFraction, circuit: d.circuit, share: (counts.g2 ?? 0) / 60 });
      if (d.circuit === 'closed' && d.weightFraction >= 1) fullSamples++;
    }
    // Per granted fraction f: g2's mean share, and the share weighted-locality round robin should give it, f / (f + 2).
    const byFraction = new Map<number, number[]>();
    for (const s of samples) byFraction.set(s.fraction, [...(byFraction.get(s.fraction) ?? []), s.share]);
    const pct = (x: number) => (x * 100).toFixed(1);
    console.log(
      `proxyless ramp (granted fraction: measured share vs expected, samples of 60 calls): ${[...byFraction]
        .map(([f, xs]) => `${pct(f)}%: ${pct(xs.reduce((a, b) => a + b, 0) / xs.length)}% vs ${pct(f / (f + 2))}% (n=${xs.length})`)
        .join('; ')}`,
    );
    expect(fullSamples).toBe(10);

    const mean = (xs: Sample[]) => xs.reduce((a, s) => a + s.share, 0) / Math.max(1, xs.length);
    // In rotation but ramping (half-open or early slow start): well below its full share of 1/3.
    const early = samples.filter((s) => s.fraction > 0 && s.fraction <= 0.4);
    // At full weight (the first two samples may still see the previous level: publish-to-client lag).
    const late = samples.filter((s) => s.circuit === 'closed' && s.fraction >= 1).slice(2);
    expect(early.length).toBeGreaterThan(0);
    expect(mean(early)).toBeLessThan(0.2);
    expect(mean(late)).toBeGreaterThan(0.25);
    // And in between it grows: shares at mid-ramp fractions sit between the two.
    const mid = samples.filter((s) => s.fraction > 0.4 && s.fraction < 1);
    expect(mid.length).toBeGreaterThan(0);
    expect(mean(mid)).toBeGreaterThan(mean(early));
    expect(mean(mid)).toBeLessThan(mean(late));
  });
});
