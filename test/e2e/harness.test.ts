// Self-test of the e2e harness against a real Envoy, without the healthmesh control plane.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.js';
import { freePort } from '../support/net.js';
import { shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';

function staticBootstrap(listenPort: number, backends: Backend[]): object {
  return {
    node: { id: 'harness', cluster: 'harness' },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    route_config: {
                      virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'backends' } }] }],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'backends',
          type: 'STATIC',
          connect_timeout: '1s',
          lb_policy: 'ROUND_ROBIN',
          load_assignment: {
            cluster_name: 'backends',
            endpoints: [
              {
                lb_endpoints: backends.map((b) => ({
                  endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: b.port } } },
                })),
              },
            ],
          },
        },
      ],
    },
  };
}

describe('envoy with a static bootstrap', () => {
  let backends: Backend[] = [];
  let envoy: EnvoyHandle | undefined;
  let url = '';

  beforeAll(async () => {
    backends = await startHttpBackends(3);
    const port = await freePort();
    envoy = await startEnvoy({ bootstrap: staticBootstrap(port, backends) });
    url = `http://127.0.0.1:${port}/`;
  });

  afterAll(async () => {
    await envoy?.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('exposes admin: clusters, stats, config dump', async () => {
    const e = envoy!;
    const hosts = await e.clusterHosts('backends');
    expect(hosts.map((h) => h.port).sort()).toEqual(backends.map((b) => b.port).sort());
    for (const h of hosts) {
      expect(h.address).toBe('127.0.0.1');
      expect(h.health).toContain('HEALTHY');
      expect(h.weight).toBe(1);
    }
    expect(await e.clusterHosts('no-such-cluster')).toEqual([]);
    const stats = await e.stats();
    expect(stats.get('cluster.backends.membership_total')).toBe(3);
    const dump = await e.configDump();
    expect(JSON.stringify(dump)).toContain('"ingress"');
  });

  it('spreads traffic over all three backends', async () => {
    const r = await shares(url, 300, { concurrency: 10 });
    expect(r.errors, JSON.stringify(r.statuses)).toBe(0);
    expect(r.total).toBe(300);
    for (const b of backends) {
      expect(r.share(b.name), `${b.name}: ${JSON.stringify(r.counts)}`).toBeGreaterThan(0.2);
      expect(b.requests).toBeGreaterThan(0);
    }
  });

  it('counts errors when a backend fails', async () => {
    const bad = backends[1]!;
    bad.setStatus(503);
    try {
      const r = await shares(url, 90);
      expect(r.errors).toBeGreaterThan(0);
      expect(r.statuses['503']).toBe(r.errors);
      expect(r.counts[bad.name]).toBeUndefined();
    } finally {
      bad.setStatus(200);
    }
  });

  it('stop() is idempotent and the process exits', async () => {
    const e = envoy!;
    await Promise.all([e.stop(), e.stop()]);
    await e.stop();
    expect((await e.exited).signal ?? (await e.exited).code).toBeDefined();
    await expect(fetch(`${e.adminUrl}/ready`)).rejects.toThrow();
  });
});

describe('ADS bootstraps', () => {
  const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';

  for (const [mode, method] of [
    ['sotw', 'StreamAggregatedResources'],
    ['delta', 'DeltaAggregatedResources'],
  ] as const) {
    it(`${mode}: envoy dials ${method} on the xds port with our node id`, async () => {
      // A bare gRPC server that records raw ADS requests; it never answers.
      const seen: Array<{ method: string; msg: Buffer }> = [];
      const server = new grpc.Server();
      for (const m of ['StreamAggregatedResources', 'DeltaAggregatedResources']) {
        server.register<Buffer, Buffer>(
          ADS + m,
          (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
            call.on('data', (msg: Buffer) => seen.push({ method: m, msg }));
            call.on('error', () => {});
          },
          (b) => b,
          (b) => b,
          'bidi',
        );
      }
      const xdsPort = await new Promise<number>((res, rej) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
      );
      const nodeId = `harness-${mode}`;
      const envoy = await startEnvoy({ xdsPort, mode, nodeId, readiness: 'admin' });
      try {
        const first = await waitFor(() => seen[0], { timeoutMs: 15_000, what: `an ADS request from envoy (${mode})` });
        expect(first.method).toBe(method);
        expect(first.msg.includes(nodeId)).toBe(true); // node.id is a raw protobuf string
        expect(first.msg.includes('healthmesh-demo')).toBe(true);
        const dump = JSON.stringify(await envoy.configDump());
        expect(dump).toContain(`"port_value":${xdsPort}`);
      } finally {
        await envoy.stop();
        server.forceShutdown();
      }
    });
  }
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let i = 0;
    await expect(waitFor(() => (++i >= 3 ? `done ${i}` : false), { timeoutMs: 2_000, intervalMs: 10, what: 'i to reach 3' })).resolves.toBe('done 3');
  });

  it('times out naming what it waited for and the last value', async () => {
    const t0 = Date.now();
    await expect(waitFor(() => false, { timeoutMs: 200, intervalMs: 20, what: 'the impossible' })).rejects.toThrow(
      /timed out after 200ms waiting for the impossible; last: false/,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('reports the last exception', async () => {
    await expect(
      waitFor(
        async () => {
          throw new Error('boom');
        },
        { timeoutMs: 100, intervalMs: 20, what: 'a thrower' },
      ),
    ).rejects.toThrow(/a thrower; last: threw boom/);
  });
});
