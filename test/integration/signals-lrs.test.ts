import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointKey, TrafficSample } from '../../src/core/model.js';
import { silentLogger } from '../../src/log.js';
import { LrsService } from '../../src/signals/lrs.js';
import { messageType } from '../../src/xds/protos.js';
import { waitFor } from '../support/wait.js';
import { bearer, testAuthenticator, TEST_TOKENS } from '../support/auth.js';

const PATH = '/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats';
const requestType = () => messageType('envoy.service.load_stats.v3.LoadStatsRequest');
const responseType = () => messageType('envoy.service.load_stats.v3.LoadStatsResponse');
const encode = (obj: Record<string, unknown>): Buffer => Buffer.from(requestType().encode(requestType().fromObject(obj)).finish());

interface Received {
  key: EndpointKey;
  sample: TrafficSample;
  nodeId: string;
}

/** A raw LRS client stream: we write bytes, so malformed ones can be sent too. */
class RawStream {
  readonly responses: Array<Record<string, unknown>> = [];
  status: grpc.StatusObject | undefined;
  error: grpc.ServiceError | undefined;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;

  constructor(client: grpc.Client, token: string | null = TEST_TOKENS.proxy) {
    this.call = client.makeBidiStreamRequest(
      PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      token === null ? new grpc.Metadata() : bearer(token),
    );
    this.call.on('data', (b: Buffer) => this.responses.push(responseType().toObject(responseType().decode(b), { longs: Number, defaults: true })));
    this.call.on('status', (s) => (this.status = s));
    this.call.on('error', (e: grpc.ServiceError) => (this.error = e));
  }

  send(obj: Record<string, unknown>): void {
    this.call.write(encode(obj));
  }

  sendBytes(b: Buffer): void {
    this.call.write(b);
  }

  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}

const endpoint = (port: number, ok: number, errors: number) => ({
  address: { socket_address: { address: '127.0.0.1', port_value: port } },
  total_successful_requests: ok,
  total_error_requests: errors,
  total_issued_requests: ok + errors,
});

const report = (cluster: string, interval: { seconds: number; nanos: number }, endpoints: ReturnType<typeof endpoint>[]) => ({
  cluster_stats: [{ cluster_name: cluster, load_report_interval: interval, upstream_locality_stats: [{ locality: {}, upstream_endpoint_stats: endpoints }] }],
});

describe('LrsService over real gRPC', () => {
  let server: grpc.Server;
  let client: grpc.Client;
  let lrs: LrsService;
  const received: Received[] = [];
  let throwFor: string | undefined;
  const open: RawStream[] = [];
  /** Node ids with an "open ADS stream" (the app asks the xDS ledger; test/integration/write-auth.test.ts does it for real). */
  const ads = new Set(['envoy-1', 'envoy-2', 'envoy-3', 'envoy-4']);
  const stream = (token?: string | null): RawStream => {
    const s = new RawStream(client, token);
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    lrs = new LrsService({
      config: { enabled: true, reportIntervalMs: 500, adsGraceMs: 300 },
      logger: silentLogger(),
      now: () => 42_000,
      auth: testAuthenticator(),
      hasAdsStream: (nodeId) => ads.has(nodeId),
      onTraffic: (key, sample, nodeId) => {
        if (key === throwFor) throw new Error('downstream failure');
        received.push({ key, sample, nodeId });
      },
    });
    server = new grpc.Server();
    lrs.register(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterEach(() => {
    for (const s of open.splice(0)) s.cancel();
    received.length = 0;
    throwFor = undefined;
  });

  afterAll(async () => {
    lrs?.stop();
    client?.close();
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  });

  it('a first request without node.id ends the stream with INVALID_ARGUMENT', async () => {
    const s = stream();
    s.send({ cluster_stats: [] });
    const status = await waitFor(() => s.status, { timeoutMs: 5000, what: 'the stream to end' });
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe('node.id: required on the first LoadStatsRequest');
    expect(s.responses).toHaveLength(0);
  });

  it('answers the first request with all clusters, the interval and endpoint granularity; reports become samples', async () => {
    const s = stream();
    s.send({ node: { id: 'envoy-1', cluster: 'edge' } });
    await waitFor(() => s.responses.length === 1, { timeoutMs: 5000, what: 'the LoadStatsResponse' });
    expect(s.responses[0]).toMatchObject({
      clusters: [],
      send_all_clusters: true,
      load_reporting_interval: { seconds: 0, nanos: 500_000_000 },
      report_endpoint_granularity: true,
    });
    expect(lrs.streams()).toBe(1);

    s.send(report('demo', { seconds: 0, nanos: 498_000_000 }, [endpoint(9101, 40, 0), endpoint(9102, 0, 12), endpoint(9103, 0, 0)]));
    await waitFor(() => received.length === 2, { timeoutMs: 5000, what: 'two samples' });
    expect(received).toEqual([
      { key: 'demo/127.0.0.1:9101', nodeId: 'envoy-1', sample: { at: 42_000, intervalMs: 498, successes: 40, errors: 0 } },
      { key: 'demo/127.0.0.1:9102', nodeId: 'envoy-1', sample: { at: 42_000, intervalMs: 498, successes: 0, errors: 12 } },
    ]);
    expect(s.responses).toHaveLength(1);

    s.end();
    await waitFor(() => s.status, { timeoutMs: 5000, what: 'the stream to close' });
    expect(s.status?.code).toBe(grpc.status.OK);
    await waitFor(() => lrs.streams() === 0, { timeoutMs: 5000, what: 'the stream to be forgotten' });
  });

  it('undecodable reports and a throwing onTraffic are logged, the stream is kept', async () => {
    const s = stream();
    s.send({ node: { id: 'envoy-2' } });
    await waitFor(() => s.responses.length === 1, { timeoutMs: 5000, what: 'the LoadStatsResponse' });
    // An unknown field with wire type 7 (does not exist): protobuf decoding fails.
    s.sendBytes(Buffer.from([0x7f, 0x01, 0x02]));
    throwFor = 'demo/127.0.0.1:9101';
    s.send(report('demo', { seconds: 1, nanos: 0 }, [endpoint(9101, 5, 0), endpoint(9102, 3, 1)]));
    await waitFor(() => received.length === 1, { timeoutMs: 5000, what: 'the sample after the bad one' });
    expect(received[0]).toMatchObject({ key: 'demo/127.0.0.1:9102', nodeId: 'envoy-2', sample: { intervalMs: 1000, successes: 3, errors: 1 } });
    expect(s.status).toBeUndefined();
    expect(lrs.streams()).toBe(1);
  });

  it('a stream without a proxy token is UNAUTHENTICATED; another role is PERMISSION_DENIED; nothing is counted', async () => {
    for (const [token, code] of [
      [null, grpc.status.UNAUTHENTICATED],
      ['wrong-token-0123456789abcdef', grpc.status.UNAUTHENTICATED],
      [TEST_TOKENS.agent, grpc.status.PERMISSION_DENIED],
    ] as const) {
      const s = stream(token);
      s.send({ node: { id: 'envoy-1' } });
      s.send(report('demo', { seconds: 1, nanos: 0 }, [endpoint(9101, 0, 1000)]));
      const status = await waitFor(() => s.status, { timeoutMs: 5000, what: 'the stream to be refused' });
      expect({ token, code: status.code }).toEqual({ token, code });
      expect(s.responses).toHaveLength(0);
    }
    expect(received).toHaveLength(0);
  });

  it('reports from a node without an open ADS stream are ignored, and the stream is closed after the grace period', async () => {
    const s = stream();
    s.send({ node: { id: 'forger' } });
    await waitFor(() => s.responses.length === 1, { timeoutMs: 5000, what: 'the LoadStatsResponse' });
    s.send(report('demo', { seconds: 1, nanos: 0 }, [endpoint(9101, 0, 1000)]));
    const status = await waitFor(() => s.status, { timeoutMs: 5000, what: 'the stream to be closed' });
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toMatch(/node "forger" has no open ADS stream/);
    expect(received).toHaveLength(0);

    // A node whose ADS stream opens within the grace period is accepted from then on.
    const late = stream();
    late.send({ node: { id: 'late-ads' } });
    await waitFor(() => late.responses.length === 1, { timeoutMs: 5000, what: 'the LoadStatsResponse' });
    ads.add('late-ads');
    late.send(report('demo', { seconds: 1, nanos: 0 }, [endpoint(9102, 2, 0)]));
    await waitFor(() => received.length === 1, { timeoutMs: 5000, what: 'the report sent once ADS is open' });
    expect(received[0]).toMatchObject({ key: 'demo/127.0.0.1:9102', nodeId: 'late-ads' });
    // The positive marker: an orphan stream opened after `late` has its grace period run out and is closed;
    // `late`'s grace period (had it not been cancelled) would have ended before that one, yet it is still open.
    const witness = stream();
    witness.send({ node: { id: 'never-ads' } });
    const closed = await waitFor(() => witness.status, { timeoutMs: 5000, what: 'the orphan witness stream closed after its grace period' });
    expect(closed.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(late.status).toBeUndefined();
    late.send(report('demo', { seconds: 1, nanos: 0 }, [endpoint(9103, 1, 0)]));
    await waitFor(() => received.length === 2, { timeoutMs: 5000, what: 'a later report still accepted' });
    expect(late.status).toBeUndefined();
  });

  it('stop() ends open streams with UNAVAILABLE, refuses new ones and is idempotent', async () => {
    const s = stream();
    s.send({ node: { id: 'envoy-3' } });
    await waitFor(() => s.responses.length === 1, { timeoutMs: 5000, what: 'the LoadStatsResponse' });
    lrs.stop();
    lrs.stop();
    const status = await waitFor(() => s.status, { timeoutMs: 5000, what: 'the stream to end' });
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(lrs.streams()).toBe(0);
    const late = stream();
    late.send({ node: { id: 'envoy-4' } });
    expect((await waitFor(() => late.status, { timeoutMs: 5000, what: 'the late stream to be refused' })).code).toBe(grpc.status.UNAVAILABLE);
  });
});
