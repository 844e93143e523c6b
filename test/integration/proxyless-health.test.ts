import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { testConfig } from '../support/config.js';
import { endpointKey } from '../../src/core/model.js';
import { echoClientCtor, startGrpcBackends, type GrpcBackend } from '../support/backends.js';
import { echoCaller } from '../support/echo-client.js';
import { waitFor } from '../support/wait.js';

/** Scenario 9: a @grpc/grpc-js-xds client follows the same health decisions as Envoy. */
let app: Healthmesh;
let backends: GrpcBackend[];
let client: grpc.Client;

const { tally } = echoCaller(() => client);

beforeAll(async () => {
  backends = await startGrpcBackends(3);
  const config = testConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 20 },
    health: { tickMs: 100, circuit: { baseOpenMs: 1000, probationSuccesses: 2 }, recovery: { windowMs: 2000, steps: 2 } },
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
    node: { id: 'proxyless-health', locality: {} },
  });
  grpcXds.register();
  client = new (echoClientCtor())('xds:///echo', grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await app?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
});

describe('proxyless gRPC follows healthmesh health decisions', () => {
  it('drains a backend whose grpc.health.v1 check says NOT_SERVING, and brings it back after probation', async () => {
    await waitFor(async () => Object.keys(await tally(15)).length === 3, { timeoutMs: 10_000, what: 'all three backends in rotation' });
    const sick = backends[1]!;
    sick.setServing(false);
    await waitFor(() => app.engine.endpoint(endpointKey('echo_backends', '127.0.0.1', sick.port))?.decision.health === 'UNHEALTHY', {
      timeoutMs: 10_000,
      what: 'engine ejects g2',
    });
    const d = app.engine.endpoint(endpointKey('echo_backends', '127.0.0.1', sick.port))!.decision;
    expect(d.reasons[0]).toMatch(/consecutive failed checks \(last: NOT_SERVING\)/);
    await waitFor(async () => !(await tally(12)).g2, { timeoutMs: 10_000, what: 'the client to stop calling g2' });
    const drained = await tally(60);
    expect(drained.g2).toBeUndefined();
    expect(drained.g1! + drained.g3!).toBe(60);

    sick.setServing(true);
    await waitFor(async () => (await tally(12)).g2, { timeoutMs: 10_000, what: 'g2 back in rotation after probation' });
    const circuit = app.engine.endpoint(endpointKey('echo_backends', '127.0.0.1', sick.port))!.decision.circuit;
    expect(['half-open', 'closed']).toContain(circuit);
  });
});
