import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { createAgentClient, type AgentClient, type HeartbeatRequestWire } from '../../src/signals/agent-proto.js';
import { callStatus, createStatusClient, type StatusClient } from '../../src/status/proto.js';
import { messageType } from '../../src/xds/protos.js';
import { bearer, TEST_TOKENS } from '../support/auth.js';
import { testConfig } from '../support/config.js';
import { waitFor } from '../support/wait.js';

/**
 * Fuzz pass over the request decoders of the gRPC port (issue 10): random field values and random
 * bytes sent over real gRPC to the status, agent and ADS services. Nothing crashes, every answer is a
 * clear status code (never INTERNAL or UNKNOWN), and the server keeps serving valid requests.
 */
const RUNS = 120;
const SEED = Number(process.env.FUZZ_SEED ?? 1_062_026);
const { OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED, CANCELLED } = grpc.status;

let app: Healthmesh;
let target: string;
let status: StatusClient;
let agent: AgentClient;
let raw: grpc.Client;

beforeAll(async () => {
  app = createHealthmesh(testConfig({ clusters: [{ name: 'demo', endpoints: [{ address: '127.0.0.1', port: 9 }] }] }));
  target = `127.0.0.1:${(await app.start()).xdsPort}`;
  status = createStatusClient(target);
  agent = createAgentClient(target);
  raw = new grpc.Client(target, grpc.credentials.createInsecure());
});

afterAll(async () => {
  status?.close();
  agent?.close();
  raw?.close();
  await app?.stop();
});

/** The gRPC code a unary call ends with (OK when it succeeds). */
async function codeOf(p: Promise<unknown>): Promise<{ code: grpc.status; details: string }> {
  try {
    await p;
    return { code: OK, details: '' };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
}

const rawUnary = (path: string, bytes: Uint8Array, metadata: grpc.Metadata): Promise<unknown> =>
  new Promise((resolve, reject) =>
    raw.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(bytes),
      metadata,
      { deadline: Date.now() + 5000 },
      (e, r) => (e ? reject(e) : resolve(r)),
    ),
  );

/** Strings that stress validators: unicode, control characters, separators, long runs. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', 'demo', '127.0.0.1', '::1', '../etc', 'a/b:c', '\u0000', 'x'.repeat(300)),
);
const uint32 = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(0, 65535, 65536, 2 ** 31 - 1, 2 ** 32 - 1));

/** Asserts the server still does its job after the fuzzing. */
async function stillServes(): Promise<void> {
  expect((await callStatus(status, 'ListClusters', {})).clusters.map((c) => c.name)).toEqual(['demo']);
}

describe('fuzz: healthmesh.v1.Status', () => {
  it('random RegisterEndpoint / DeregisterEndpoint field values get clear codes and nothing else', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          cluster: text,
          address: text,
          port: uint32,
          weight: uint32,
          zone: text,
          region: text,
          metadata: fc.dictionary(text, text, { maxKeys: 4 }),
        }),
        fc.boolean(),
        async (req, deregister) => {
          const { code } = await codeOf(
            deregister
              ? callStatus(status, 'DeregisterEndpoint', { cluster: req.cluster, address: req.address, port: req.port }, 5000, bearer(TEST_TOKENS.operator))
              : callStatus(status, 'RegisterEndpoint', req, 5000, bearer(TEST_TOKENS.operator)),
          );
          seen.set(code, (seen.get(code) ?? 0) + 1);
          expect([OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, RESOURCE_EXHAUSTED, PERMISSION_DENIED]).toContain(code);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    expect(seen.get(INVALID_ARGUMENT)).toBeGreaterThan(0);
    await stillServes();
  });

  it('random bytes to every Status method: INVALID_ARGUMENT (or a clear answer), UNAUTHENTICATED for writes without a token', async () => {
    const methods = ['ListClusters', 'ListEndpoints', 'GetEndpoint', 'RegisterEndpoint', 'DeregisterEndpoint', 'ListProxies', 'ListAlerts'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (method, bytes, withToken) => {
        const { code } = await codeOf(rawUnary(`/healthmesh.v1.Status/${method}`, bytes, withToken ? bearer(TEST_TOKENS.operator) : new grpc.Metadata()));
        const write = method === 'RegisterEndpoint' || method === 'DeregisterEndpoint';
        if (write && !withToken) expect(code).toBe(UNAUTHENTICATED);
        else expect([OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS]).toContain(code);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    await stillServes();
  });
});

describe('fuzz: healthmesh.v1.Agent', () => {
  it('random Heartbeat field values and random bytes get clear codes', async () => {
    const endpoint = fc.record({ cluster: text, address: text, port: uint32 });
    const percent = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -0, 0, 100, 100.0001));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          node_id: text,
          endpoints: fc.array(endpoint, { maxLength: 5 }),
          cpu_percent: percent,
          memory_percent: percent,
          disk_percent: percent,
          interval_ms: uint32,
          agent_version: text,
        }),
        async (hb: HeartbeatRequestWire) => {
          const { code } = await codeOf(
            new Promise((resolve, reject) =>
              agent.Heartbeat(hb, bearer(TEST_TOKENS.agent), { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))),
            ),
          );
          expect([OK, INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED]).toContain(code);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, withToken) => {
        const { code } = await codeOf(rawUnary('/healthmesh.v1.Agent/Heartbeat', bytes, withToken ? bearer(TEST_TOKENS.agent) : new grpc.Metadata()));
        expect(withToken ? [INVALID_ARGUMENT, NOT_FOUND] : [UNAUTHENTICATED]).toContain(code);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    await stillServes();
  });
});

describe('fuzz: ADS', () => {
  const discovery = () => messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const deltaDiscovery = () => messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';

  /** Opens an ADS stream, writes `messages`, and returns how it ended (CANCELLED: still open after a short wait, which is fine). */
  async function adsOutcome(method: 'StreamAggregatedResources' | 'DeltaAggregatedResources', messages: Buffer[]): Promise<grpc.StatusObject> {
    const call = raw.makeBidiStreamRequest(
      ADS + method,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    let end: grpc.StatusObject | undefined;
    call.on('status', (s: grpc.StatusObject) => (end = s));
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    for (const m of messages) call.write(m);
    try {
      await waitFor(() => end, { timeoutMs: 300, intervalMs: 10, what: 'the stream to end' });
    } catch {
      call.cancel();
      await waitFor(() => end, { timeoutMs: 5000, intervalMs: 10, what: 'the cancelled stream to end' });
    }
    return end!;
  }

  it('random bytes and random DiscoveryRequest fields: the stream answers or ends with a clear code', async () => {
    const typeUrl = fc.oneof(
      text,
      fc.constantFrom(
        'type.googleapis.com/envoy.config.cluster.v3.Cluster',
        'type.googleapis.com/envoy.config.listener.v3.Listener',
        'type.googleapis.com/google.protobuf.Empty',
      ),
    );
    const sotw = fc.record({
      version_info: text,
      node: fc.option(fc.record({ id: text, cluster: text }), { nil: undefined }),
      resource_names: fc.array(text, { maxLength: 5 }),
      type_url: typeUrl,
      response_nonce: text,
    });
    const delta = fc.record({
      node: fc.option(fc.record({ id: text }), { nil: undefined }),
      type_url: typeUrl,
      resource_names_subscribe: fc.array(text, { maxLength: 5 }),
      resource_names_unsubscribe: fc.array(text, { maxLength: 3 }),
      response_nonce: text,
    });
    const message = fc.oneof(
      fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 200 })).map(([delta, b]) => ({ delta, bytes: [Buffer.from(b)] })),
      fc
        .array(sotw, { minLength: 1, maxLength: 3 })
        .map((ms) => ({ delta: false, bytes: ms.map((m) => Buffer.from(discovery().encode(discovery().fromObject(m)).finish())) })),
      fc
        .array(delta, { minLength: 1, maxLength: 3 })
        .map((ms) => ({ delta: true, bytes: ms.map((m) => Buffer.from(deltaDiscovery().encode(deltaDiscovery().fromObject(m)).finish())) })),
    );
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(message, async ({ delta, bytes }) => {
        const end = await adsOutcome(delta ? 'DeltaAggregatedResources' : 'StreamAggregatedResources', bytes);
        codes.set(end.code, (codes.get(end.code) ?? 0) + 1);
        expect([CANCELLED, OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, grpc.status.FAILED_PRECONDITION]).toContain(end.code);
      }),
      { numRuns: 60, seed: SEED },
    );
    expect(codes.get(INVALID_ARGUMENT)).toBeGreaterThan(0);
    // The control plane still serves a well-formed client.
    const ok = await adsOutcome('StreamAggregatedResources', [
      Buffer.from(
        discovery()
          .encode(discovery().fromObject({ node: { id: 'after-fuzz' }, type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }))
          .finish(),
      ),
    ]);
    expect(ok.code).toBe(CANCELLED);
    await stillServes();
  });
});
