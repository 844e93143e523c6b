import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../src/agent/agent.js';
import { Authenticator } from '../../src/auth/index.js';
import { NotFoundError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createAgentClient, type AgentClient, type HeartbeatRequestWire, type HeartbeatResponseWire } from '../../src/signals/agent-proto.js';
import { AgentIntake, type Heartbeat } from '../../src/signals/agent-intake.js';
import { bearer, TEST_AUTH, TEST_TOKENS } from '../support/auth.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const MAX_RECEIVE = 64 * 1024;
const SERVER_INTERVAL_MS = 150;

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** Scoped agent tokens: one endpoint, one cluster, and one bound to a node id. */
const SCOPED = { one: 'agent-one-endpoint-token-0001', cluster: 'agent-cluster-token-00000001', node: 'agent-node-bound-token-000001' };

const call = (client: AgentClient, req: Partial<HeartbeatRequestWire>, token: string | null = TEST_TOKENS.agent): Promise<HeartbeatResponseWire> =>
  new Promise((resolve, reject) =>
    client.Heartbeat(req, token === null ? new grpc.Metadata() : bearer(token), { deadline: Date.now() + 5000 }, (err, res) =>
      err ? reject(err) : res ? resolve(res) : reject(new Error('no response')),
    ),
  );

const failure = async (p: Promise<unknown>): Promise<grpc.ServiceError> => {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
};

const valid = (): HeartbeatRequestWire => ({
  node_id: 'raw-node',
  endpoints: [{ cluster: 'demo', address: '127.0.0.1', port: 9101 }],
  cpu_percent: 10,
  memory_percent: 20,
  disk_percent: 30,
  interval_ms: 1000,
  agent_version: 'test',
});

describe('agent heartbeats over real gRPC', () => {
  let server: grpc.Server;
  let target: string;
  let client: AgentClient;
  const received: Heartbeat[] = [];

  beforeAll(async () => {
    const auth = new Authenticator(
      {
        tokens: [
          ...TEST_AUTH.tokens,
          { name: 'one', role: 'agent', token: SCOPED.one, endpoints: ['demo/127.0.0.1:9101'] },
          { name: 'cluster', role: 'agent', token: SCOPED.cluster, endpoints: ['demo/*', 'other/[::1]:80'] },
          { name: 'bound', role: 'agent', token: SCOPED.node, endpoints: ['*'], nodes: ['node-x'] },
        ],
      } as never,
      { token: ADMIN_TOKEN },
      {},
    );
    const intake = new AgentIntake({
      auth,
      logger: silentLogger(),
      intervalMs: SERVER_INTERVAL_MS,
      onHeartbeat: (hb) => {
        if (hb.endpoints.some((e) => e.cluster === 'ghost')) throw new NotFoundError('cluster "ghost"');
        if (hb.endpoints.some((e) => e.cluster === 'boom')) throw new Error('db password=hunter2 rejected');
        received.push(hb);
        return { accepted: hb.endpoints.length };
      },
    });
    server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RECEIVE });
    intake.register(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    target = `127.0.0.1:${port}`;
    client = createAgentClient(target);
  });

  afterAll(async () => {
    client?.close();
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  });

  it('a NodeAgent heartbeats real system numbers and follows next_interval_ms', async () => {
    const endpoints = [
      { cluster: 'demo', address: '127.0.0.1', port: 9101 },
      { cluster: 'demo', address: '127.0.0.1', port: 9102 },
    ];
    const agent = new NodeAgent({ controlPlane: target, nodeId: 'node-a', endpoints, intervalMs: 400, logger: silentLogger(), token: TEST_TOKENS.agent });
    const before = Date.now();
    agent.start();
    agent.start(); // idempotent
    try {
      const mine = () => received.filter((h) => h.nodeId === 'node-a');
      await waitFor(() => mine().length >= 3, { timeoutMs: 15_000, what: 'three heartbeats from the agent' });
      for (const hb of mine()) {
        expect(hb.endpoints).toEqual(endpoints);
        expect(hb.sample.nodeId).toBe('node-a');
        expect(hb.sample.at).toBeGreaterThanOrEqual(before);
        for (const v of [hb.sample.cpuPercent, hb.sample.memoryPercent, hb.sample.diskPercent]) {
          expect(Number.isFinite(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(100);
        }
        // A running machine has some memory in use.
        expect(hb.sample.memoryPercent).toBeGreaterThan(0);
      }
      const stats = agent.stats();
      expect(stats.intervalMs).toBe(SERVER_INTERVAL_MS);
      expect(stats.lastResponse).toEqual({ next_interval_ms: SERVER_INTERVAL_MS, accepted_endpoints: 2 });
      expect(stats.failed).toBe(0);
    } finally {
      await agent.stop();
      await agent.stop(); // idempotent
    }
    // Stopped means stopped: while another agent beats three more times, node-a sends nothing.
    const count = received.filter((h) => h.nodeId === 'node-a').length;
    const other = new NodeAgent({
      controlPlane: target,
      nodeId: 'node-b',
      endpoints,
      intervalMs: SERVER_INTERVAL_MS,
      logger: silentLogger(),
      token: SCOPED.cluster,
      sample: async () => ({ cpuPercent: 1, memoryPercent: 1, diskPercent: 1 }),
    });
    other.start();
    try {
      await waitFor(() => received.filter((h) => h.nodeId === 'node-b').length >= 3, { timeoutMs: 10_000, what: 'three heartbeats from node-b' });
    } finally {
      await other.stop();
    }
    expect(received.filter((h) => h.nodeId === 'node-a').length).toBe(count);
  });

  it.each<[string, Partial<HeartbeatRequestWire>, string]>([
    ['no node_id', { node_id: '' }, 'node_id: required'],
    ['cpu 140', { cpu_percent: 140 }, 'cpu_percent: must be 0..100, got 140'],
    ['NaN memory', { memory_percent: Number.NaN }, 'memory_percent: must be 0..100, got NaN'],
    [
      'third endpoint on port 0',
      {
        endpoints: [
          { cluster: 'demo', address: '127.0.0.1', port: 1 },
          { cluster: 'demo', address: '127.0.0.1', port: 2 },
          { cluster: 'demo', address: '127.0.0.1', port: 0 },
        ],
      },
      'endpoints[2].port: must be 1..65535, got 0',
    ],
    ['no interval', { interval_ms: 0 }, 'interval_ms: must be 100..3600000, got 0'],
  ])('a request with %s is INVALID_ARGUMENT naming the field', async (_name, patch, details) => {
    const err = await failure(call(client, { ...valid(), ...patch }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe(details);
  });

  it('bytes that are not a HeartbeatRequest are INVALID_ARGUMENT', async () => {
    const Raw = grpc.makeGenericClientConstructor(
      {
        Heartbeat: {
          path: '/healthmesh.v1.Agent/Heartbeat',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'Agent',
    );
    const raw = new Raw(target, grpc.credentials.createInsecure());
    try {
      // An unknown field (15) with wire type 7, which does not exist.
      const garbage = Buffer.from([0x7f, 0x01, 0x02]);
      const err = await failure(
        new Promise((resolve, reject) =>
          raw.makeUnaryRequest(
            '/healthmesh.v1.Agent/Heartbeat',
            (b: Buffer) => b,
            (b: Buffer) => b,
            garbage,
            bearer(TEST_TOKENS.agent),
            { deadline: Date.now() + 5000 },
            (e, r) => (e ? reject(e) : resolve(r)),
          ),
        ),
      );
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toBe('request: not a valid healthmesh.v1.HeartbeatRequest');
    } finally {
      raw.close();
    }
  });

  it('an unknown cluster is NOT_FOUND; a handler failure is INTERNAL without its details', async () => {
    const notFound = await failure(call(client, { ...valid(), endpoints: [{ cluster: 'ghost', address: '127.0.0.1', port: 1 }] }));
    expect(notFound.code).toBe(grpc.status.NOT_FOUND);
    expect(notFound.details).toBe('cluster "ghost" not found');
    const internal = await failure(call(client, { ...valid(), endpoints: [{ cluster: 'boom', address: '127.0.0.1', port: 1 }] }));
    expect(internal.code).toBe(grpc.status.INTERNAL);
    expect(internal.details).toBe('internal error');
    expect(internal.details).not.toMatch(/hunter2/);
  });

  it('an oversized request is refused by the server, which keeps serving', async () => {
    const huge = {
      ...valid(),
      endpoints: Array.from({ length: 1000 }, (_, i) => ({ cluster: 'demo', address: `host-${i}.${'x'.repeat(120)}`, port: 1 + i })),
    };
    const err = await failure(call(client, huge));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/larger than max|max.*length/i);
    await expect(call(client, valid())).resolves.toEqual({ next_interval_ms: SERVER_INTERVAL_MS, accepted_endpoints: 1 });
  });

  it('refuses heartbeats without a valid agent token: UNAUTHENTICATED, PERMISSION_DENIED for another role', async () => {
    const before = received.length;
    for (const [token, code, details] of [
      [null, grpc.status.UNAUTHENTICATED, /missing credentials/],
      ['not-a-token-but-long-enough', grpc.status.UNAUTHENTICATED, /invalid bearer token/],
      [TEST_TOKENS.operator, grpc.status.PERMISSION_DENIED, /role operator; this call needs role agent/],
      [TEST_TOKENS.proxy, grpc.status.PERMISSION_DENIED, /role proxy/],
    ] as const) {
      const err = await failure(call(client, valid(), token));
      expect({ code: err.code, token }).toEqual({ code, token });
      expect(err.details).toMatch(details);
    }
    // Malformed authorization values are UNAUTHENTICATED too, and nothing was applied.
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', TEST_TOKENS.agent]) {
      const md = new grpc.Metadata();
      md.set('authorization', value);
      const err = await failure(
        new Promise((resolve, reject) => client.Heartbeat(valid(), md, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r)))),
      );
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    }
    expect(received.length).toBe(before);
    // The admin token is accepted for every write RPC.
    await expect(call(client, valid(), ADMIN_TOKEN)).resolves.toEqual({ next_interval_ms: SERVER_INTERVAL_MS, accepted_endpoints: 1 });
  });

  it('an agent may speak only for the endpoints and node ids its token allows (forged ones: PERMISSION_DENIED, nothing applied)', async () => {
    const ep = (cluster: string, address: string, port: number) => ({ cluster, address, port });
    await expect(call(client, { ...valid(), endpoints: [ep('demo', '127.0.0.1', 9101)] }, SCOPED.one)).resolves.toMatchObject({ accepted_endpoints: 1 });
    const before = received.length;
    const forged = await failure(call(client, { ...valid(), endpoints: [ep('demo', '127.0.0.1', 9101), ep('demo', '127.0.0.1', 9102)] }, SCOPED.one));
    expect({ code: forged.code, details: forged.details }).toEqual({
      code: grpc.status.PERMISSION_DENIED,
      details: 'endpoints[1]: token "one" may not speak for demo/127.0.0.1:9102',
    });
    // cluster/* covers the cluster only; a bracketed IPv6 scope matches the endpoint key.
    await expect(call(client, { ...valid(), endpoints: [ep('demo', '10.0.0.9', 1), ep('other', '::1', 80)] }, SCOPED.cluster)).resolves.toMatchObject({
      accepted_endpoints: 2,
    });
    expect((await failure(call(client, { ...valid(), endpoints: [ep('other', '::1', 81)] }, SCOPED.cluster))).code).toBe(grpc.status.PERMISSION_DENIED);
    // A token bound to node ids refuses any other node id.
    await expect(call(client, { ...valid(), node_id: 'node-x' }, SCOPED.node)).resolves.toMatchObject({ accepted_endpoints: 1 });
    const wrongNode = await failure(call(client, { ...valid(), node_id: 'node-y' }, SCOPED.node));
    expect({ code: wrongNode.code, details: wrongNode.details }).toEqual({
      code: grpc.status.PERMISSION_DENIED,
      details: 'node_id: token "bound" may not speak as node "node-y"',
    });
    expect(received.length).toBe(before + 2);
  });

  it('a NodeAgent without a token is refused and says so', async () => {
    const agent = new NodeAgent({
      controlPlane: target,
      nodeId: 'anon',
      endpoints: [{ cluster: 'demo', address: '127.0.0.1', port: 9101 }],
      intervalMs: 100,
      logger: silentLogger(),
      sample: async () => ({ cpuPercent: 1, memoryPercent: 1, diskPercent: 1 }),
    });
    agent.start();
    try {
      await waitFor(() => agent.stats().failed >= 1, { timeoutMs: 10_000, what: 'a refused heartbeat' });
      expect(agent.stats().ok).toBe(0);
      expect(agent.stats().lastError).toMatch(/missing credentials/);
    } finally {
      await agent.stop();
    }
  });

  it('an agent whose control plane is down keeps trying and stops cleanly', async () => {
    const deadPort = await freePort();
    const agent = new NodeAgent({
      controlPlane: `127.0.0.1:${deadPort}`,
      nodeId: 'lonely',
      endpoints: [{ cluster: 'demo', address: '127.0.0.1', port: 9101 }],
      intervalMs: 100,
      deadlineMs: 300,
      logger: silentLogger(),
      sample: async () => ({ cpuPercent: 1, memoryPercent: 2, diskPercent: 3 }),
    });
    agent.start();
    try {
      await waitFor(() => agent.stats().failed >= 3, { timeoutMs: 10_000, what: 'three failed heartbeats' });
      expect(agent.stats().ok).toBe(0);
      expect(agent.stats().lastError).toBeTruthy();
    } finally {
      await agent.stop();
    }
  });
});
