import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { echoClientCtor, type WhoReply, type WhoRequest } from '../support/backends.js';
import { waitFor } from '../support/wait.js';

/**
 * A real @grpc/grpc-js-xds client whose target routes two services to two clusters. gRPC clients
 * subscribe to clusters by name (SotW), so every CDS response must carry both clusters: a response
 * carrying only the changed one makes the client drop the other and fail every call routed there.
 */
const SERVICE_A = '/healthmesh.test.Echo/';
const SERVICE_B = '/healthmesh.test.EchoB/';

interface Backend {
  name: string;
  port: number;
  server: grpc.Server;
}

/** A gRPC server answering Who on both services with its own name. */
async function backend(name: string): Promise<Backend> {
  const server = new grpc.Server();
  const echo = echoClientCtor().service;
  const echoB = Object.fromEntries(Object.entries(echo).map(([k, m]) => [k, { ...m, path: m.path.replace(SERVICE_A, SERVICE_B) }])) as grpc.ServiceDefinition;
  const impl = {
    Who(call: grpc.ServerUnaryCall<WhoRequest, WhoReply>, cb: grpc.sendUnaryData<WhoReply>) {
      cb(null, { backend: name, payload: call.request.payload ?? '' });
    },
  };
  server.addService(echo, impl);
  server.addService(echoB, impl);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  return { name, port, server };
}

let cp: ControlPlane;
let backends: Backend[];
let client: grpc.Client;

function config(opts: { bTimeoutMs?: number; withB?: boolean } = {}): Readonly<Config> {
  const withB = opts.withB ?? true;
  const a = backends.filter((b) => b.name.startsWith('a'));
  const b = backends.filter((x) => x.name.startsWith('b'));
  return validateConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 10 },
    listeners: [{ name: 'api', kind: 'api', routeConfig: 'api_route' }],
    routes: [
      {
        name: 'api_route',
        virtualHosts: [
          { name: 'api', domains: ['*'], routes: [{ prefix: SERVICE_A, cluster: 'echo_a' }, ...(withB ? [{ prefix: SERVICE_B, cluster: 'echo_b' }] : [])] },
        ],
      },
    ],
    clusters: [
      { name: 'echo_a', endpoints: a.map((x) => ({ address: '127.0.0.1', port: x.port })) },
      ...(withB ? [{ name: 'echo_b', connectTimeoutMs: opts.bTimeoutMs ?? 1000, endpoints: b.map((x) => ({ address: '127.0.0.1', port: x.port })) }] : []),
    ],
  });
}

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const cdsVersion = (): string => cp.cache.current()!.types[CDS].version;
const ackedCds = (): string | undefined => cp.ledger.proxies().find((p) => p.nodeId === 'proxyless-routes')?.types[CDS]?.ackedVersion;

function who(service: string): Promise<string> {
  const method = echoClientCtor().service.Who!;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest<WhoRequest, WhoReply>(
      `${service}Who`,
      method.requestSerialize,
      method.responseDeserialize,
      {},
      new grpc.Metadata(),
      { deadline: Date.now() + 3000 },
      (err, reply) => (err ? reject(err) : resolve(reply!.backend)),
    ),
  );
}

/** Calls both services back to back until stopped; counts answers and failures per service. */
function traffic(): { stop(): Promise<void>; ok: Record<string, number>; failed: { a: string[]; b: string[] }; seen: Set<string> } {
  const ok: Record<string, number> = { a: 0, b: 0 };
  const failed = { a: [] as string[], b: [] as string[] };
  const seen = new Set<string>();
  let running = true;
  const loop = async (key: 'a' | 'b', service: string) => {
    while (running) {
      try {
        seen.add(await who(service));
        ok[key]!++;
      } catch (err) {
        failed[key].push((err as Error).message);
        await new Promise((r) => setTimeout(r, 20)); // a call without a route fails at once: do not spin
      }
    }
  };
  const done = Promise.all([loop('a', SERVICE_A), loop('b', SERVICE_B)]);
  return {
    ok,
    failed,
    seen,
    async stop() {
      running = false;
      await done;
    },
  };
}

beforeAll(async () => {
  backends = await Promise.all(['a1', 'a2', 'b1', 'b2'].map(backend));
  cp = createControlPlane(config());
  const { port } = await cp.start();
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'proxyless-routes', cluster: 'tests', locality: {} },
  });
  grpcXds.register();
  client = new grpc.Client('xds:///api', grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
  for (const b of backends ?? []) b.server.forceShutdown();
});

describe('proxyless gRPC: one target, two routes, two clusters', () => {
  it('routes each service to its cluster; a reload changing one cluster and the removal of the other fail no call', async () => {
    await waitFor(async () => (await who(SERVICE_A)) && (await who(SERVICE_B)), { timeoutMs: 10_000, what: 'both routes to answer' });
    const t = traffic();
    try {
      await waitFor(() => t.ok.a! >= 20 && t.ok.b! >= 20, { timeoutMs: 10_000, what: 'traffic on both routes' });
      expect([...t.seen].sort()).toEqual(['a1', 'a2', 'b1', 'b2']);

      // Reload changing echo_b only: the client must keep echo_a (the CDS response carries both).
      const cdsBefore = cdsVersion();
      cp.reload(config({ bTimeoutMs: 2500 }));
      await waitFor(() => cdsVersion() !== cdsBefore && ackedCds() === cdsVersion(), { timeoutMs: 10_000, what: 'the changed clusters ACKed' });
      const mark = { a: t.ok.a!, b: t.ok.b! };
      await waitFor(() => t.ok.a! >= mark.a + 30 && t.ok.b! >= mark.b + 30, { timeoutMs: 10_000, what: 'traffic after the reload' });
      expect(t.failed.a).toEqual([]);
      expect(t.failed.b).toEqual([]);

      // Remove route B and cluster echo_b: route A keeps working throughout.
      cp.reload(config({ withB: false }));
      await waitFor(() => t.failed.b.length > 0, { timeoutMs: 10_000, what: 'route B to be gone' });
      const markA = t.ok.a!;
      await waitFor(() => t.ok.a! >= markA + 30, { timeoutMs: 10_000, what: 'traffic on route A after the removal' });
      expect(t.failed.a).toEqual([]);
      const proxy = cp.ledger.proxies().find((p) => p.nodeId === 'proxyless-routes')!;
      expect(Object.values(proxy.types).every((x) => !x.lastNack)).toBe(true);
    } finally {
      await t.stop();
    }
    expect(t.failed.a).toEqual([]);
  });
});
