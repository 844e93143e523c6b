import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { echoClientCtor, startGrpcBackends, type GrpcBackend } from '../support/backends.js';
import { echoCaller } from '../support/echo-client.js';
import { waitFor } from '../support/wait.js';

/** A real @grpc/grpc-js-xds client resolves `xds:///echo` through healthmesh and round-robins across real backends. */
let cp: ControlPlane;
let backends: GrpcBackend[];
let client: grpc.Client;

const { tally } = echoCaller(() => client);

beforeAll(async () => {
  backends = await startGrpcBackends(3);
  const config = validateConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 10 },
    listeners: [{ name: 'echo', kind: 'api', routeConfig: 'echo_route' }],
    routes: [{ name: 'echo_route', virtualHosts: [{ name: 'echo', domains: ['*'], routes: [{ prefix: '/', cluster: 'echo_backends' }] }] }],
    clusters: [{ name: 'echo_backends', endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })) }],
  });
  cp = createControlPlane(config);
  const { port } = await cp.start();
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'proxyless-test', cluster: 'tests', locality: {} },
  });
  grpcXds.register();
  const Echo = echoClientCtor();
  client = new Echo('xds:///echo', grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
});

describe('proxyless gRPC client (@grpc/grpc-js-xds)', () => {
  it('resolves through healthmesh and spreads calls evenly across all three backends', async () => {
    // Round robin only picks READY subchannels: until all three have connected, early calls go to the ones that have.
    await waitFor(async () => Object.keys(await tally(12)).length === 3, { timeoutMs: 10_000, what: 'all three backends to receive calls' });
    // Each endpoint is its own locality for gRPC clients, which pick a locality at random by weight: over 300 calls
    // an equal share is 100 ± 8 (one standard deviation), so 60 is five deviations away.
    const counts = await tally(300);
    expect(Object.keys(counts).sort()).toEqual(['g1', 'g2', 'g3']);
    for (const n of Object.values(counts)) expect(n).toBeGreaterThanOrEqual(60);
    const proxy = cp.ledger.proxies().find((p) => p.nodeId === 'proxyless-test');
    expect(proxy?.protocol).toBe('sotw');
    expect(Object.values(proxy?.types ?? {}).every((t) => t.ackedVersion && !t.lastNack)).toBe(true);
  });

  it('stops sending to a removed endpoint and resumes when it is added back', async () => {
    const gone = backends[1]!;
    cp.topology.removeEndpoint('echo_backends', '127.0.0.1', gone.port);
    await waitFor(async () => !(await tally(12)).g2, { timeoutMs: 10_000, what: 'g2 to receive no traffic' });
    const after = await tally(30);
    expect(after.g2).toBeUndefined();
    expect(after.g1! + after.g3!).toBe(30);

    cp.topology.setEndpoint('echo_backends', { address: '127.0.0.1', port: gone.port });
    await waitFor(async () => (await tally(12)).g2, { timeoutMs: 10_000, what: 'g2 to receive traffic again' });
  });

  it('drops an endpoint marked UNHEALTHY (and DEGRADED) like Envoy excludes it', async () => {
    const sick = backends[2]!;
    cp.topology.setEndpoint('echo_backends', { address: '127.0.0.1', port: sick.port, health: 'UNHEALTHY' });
    await waitFor(async () => !(await tally(12)).g3, { timeoutMs: 10_000, what: 'g3 to be drained' });
    cp.topology.setEndpoint('echo_backends', { address: '127.0.0.1', port: sick.port, health: 'HEALTHY' });
    await waitFor(async () => (await tally(12)).g3, { timeoutMs: 10_000, what: 'g3 back' });
  });
});
