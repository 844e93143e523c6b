import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ConfigError, HealthmeshError, InvalidArgumentError, NotFoundError, type ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { ChangeEvent } from '../../src/operations.js';
import { changeSubject, changeToWire, endpointToWire, historyToWire, proxyToWire } from '../../src/status/convert.js';
import { GRPC_CODE, toGrpcStatus } from '../../src/status/grpc-status.js';
import type { WatchEventWire } from '../../src/status/proto.js';
import { WatchStream } from '../../src/status/watch.js';
import { FakeOperations } from '../support/fake-operations.js';
import { waitFor } from '../support/wait.js';

describe('snapshot → wire', () => {
  const ops = new FakeOperations({ clusters: ['demo'], now: () => 1_700_000_000_000 });

  it('maps every endpoint field and enum', () => {
    const e = ops.seed({
      cluster: 'demo',
      address: '::1',
      port: 9101,
      zone: 'z1',
      score: 42.5,
      status: 'DEGRADED',
      circuit: 'half-open',
      health: 'DRAINING',
      weight: 12.6,
      targetWeight: 100,
      weightFraction: 0.126,
      reasons: ['p99 1.8s > 500ms'],
      flapping: true,
      guarded: true,
      drained: true,
      source: 'runtime',
      expectedShare: 0.0417,
    });
    expect(endpointToWire(e)).toEqual({
      key: 'demo/::1:9101',
      cluster: 'demo',
      address: '::1',
      port: 9101,
      zone: 'z1',
      score: 42.5,
      status: 'HEALTH_STATUS_DEGRADED',
      circuit: 'CIRCUIT_STATE_HALF_OPEN',
      health: 'HEALTH_STATUS_DRAINING',
      weight: 13,
      target_weight: 100,
      weight_fraction: 0.126,
      reasons: ['p99 1.8s > 500ms'],
      flapping: true,
      guarded: true,
      drained: true,
      source: 'ENDPOINT_SOURCE_RUNTIME',
      changed_at_ms: 1_700_000_000_000,
      expected_share: 0.0417,
    });
  });

  it('keeps optional history measurements absent when unknown', () => {
    const w = historyToWire({ key: 'k', cluster: 'demo', at: 5, score: 90, status: 'HEALTHY', circuit: 'closed', health: 'HEALTHY', weight: 1, latencyMs: 0 });
    expect(w.latency_ms).toBe(0);
    expect(w.error_rate).toBeUndefined();
    expect(w.reasons).toEqual([]);
  });

  it('orders proxy types in push order and keeps the last NACK', () => {
    const w = proxyToWire({
      streamId: 's1',
      nodeId: 'envoy-1',
      protocol: 'delta',
      peer: 'ipv4:127.0.0.1:5000',
      connectedAt: 10,
      unknownTypes: [],
      types: {
        'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': { nacks: 0, ackedVersion: 'v2', publishToAckMs: 0 },
        'type.googleapis.com/envoy.config.listener.v3.Listener': {
          nacks: 2,
          sentVersion: 'v3',
          ackedVersion: 'v2',
          lastNack: { version: 'v3', message: 'bad', code: 3, at: 20, resources: ['l1'] },
        },
      },
    });
    expect(w.protocol).toBe('XDS_PROTOCOL_DELTA');
    expect(w.closed_at_ms).toBe(0);
    expect(w.types.map((t) => t.type_url.split('.').pop())).toEqual(['Listener', 'ClusterLoadAssignment']);
    expect(w.types[0]).toMatchObject({
      nacks: 2,
      publish_to_ack_ms: undefined,
      last_nack: { version: 'v3', message: 'bad', code: 3, at_ms: 20, resources: ['l1'] },
    });
    expect(w.types[1]).toMatchObject({ publish_to_ack_ms: 0, last_nack: null });
  });

  it('gives events about one subject one key', () => {
    const e = ops.seed({ cluster: 'demo', address: 'h', port: 1 });
    const events: ChangeEvent[] = [
      { kind: 'endpoint', at: 1, endpoint: e },
      { kind: 'endpoint-removed', at: 2, key: e.key, cluster: 'demo' },
    ];
    expect(new Set(events.map(changeSubject)).size).toBe(1);
    expect(changeToWire(events[1]!)).toEqual({ at_ms: 2, event: 'endpoint_removed', endpoint_removed: { key: e.key, cluster: 'demo' }, previous: null });
  });
});

describe('errors → gRPC status', () => {
  const log = silentLogger();
  it.each(Object.entries(GRPC_CODE) as Array<[ErrorCode, grpc.status]>)('%s → %i', (code, status) => {
    if (code === 'INTERNAL') return;
    expect(toGrpcStatus(new HealthmeshError(code, `${code} happened`), log, 'M')).toEqual({ code: status, details: `${code} happened` });
  });

  it('keeps field paths and hides untyped failures', () => {
    expect(toGrpcStatus(new InvalidArgumentError('port', 'must be 1..65535, got 0'), log, 'M')).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'port: must be 1..65535, got 0',
    });
    expect(toGrpcStatus(new NotFoundError('cluster "x"'), log, 'M')).toEqual({ code: grpc.status.NOT_FOUND, details: 'cluster "x" not found' });
    expect(toGrpcStatus(new ConfigError('f.yaml', []), log, 'M').code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(toGrpcStatus(new Error('db password=hunter2'), log, 'M')).toEqual({ code: grpc.status.INTERNAL, details: 'internal error' });
    expect(toGrpcStatus(new HealthmeshError('INTERNAL', 'secret'), log, 'M')).toEqual({ code: grpc.status.INTERNAL, details: 'internal error' });
  });
});

/** A stand-in for grpc-js' server stream: an object-mode stream that accepts `highWaterMark` writes until drained by hand. */
function fakeCall(highWaterMark: number) {
  const out = new PassThrough({ objectMode: true, highWaterMark });
  const call = Object.assign(out, { getPeer: () => 'test' }) as unknown as grpc.ServerWritableStream<unknown, WatchEventWire>;
  return { call, out };
}

describe('Watch queue (coalescing, bound)', () => {
  it('coalesces events about one endpoint while the client is behind, keeping what it last saw as previous', async () => {
    const ops = new FakeOperations({ clusters: ['demo'], now: () => 1000 });
    const e = ops.seed({ cluster: 'demo', address: 'h', port: 1 });
    const { call, out } = fakeCall(1);
    const closed: WatchStream[] = [];
    const w = new WatchStream(call, { ops, logger: silentLogger(), now: () => 1000, backlog: 10, onClose: (x) => closed.push(x) });
    w.start();
    // Only the first event fit; the rest waits: [endpoint h, synced].
    expect(w.queued).toBe(2);
    ops.update(e.key, { health: 'UNHEALTHY', weight: 0 });
    ops.update(e.key, { health: 'DEGRADED', weight: 50 });
    ops.update(e.key, { health: 'HEALTHY', weight: 100 });
    // Still two queued: the initial endpoint event was replaced in place; plus synced, plus the cluster event.
    expect(w.queued).toBe(3);
    const got: WatchEventWire[] = [];
    out.on('data', (ev: WatchEventWire) => got.push(ev));
    await waitFor(() => got.length >= 4 && w.queued === 0, { timeoutMs: 5000, intervalMs: 5, what: 'the queue to drain' });
    expect(got.map((g) => g.event)).toEqual(['cluster', 'endpoint', 'synced', 'cluster']);
    const ep = got[1]!;
    expect(ep.endpoint?.weight).toBe(100);
    expect(ep.previous).toBeNull(); // the client never saw an earlier state
    // Live again: a change after the queue drained carries its real previous state.
    ops.update(e.key, { health: 'UNHEALTHY', weight: 0 });
    await waitFor(() => got.length >= 6, { timeoutMs: 5000, intervalMs: 5, what: 'the live change' });
    const last = got.at(-2)!;
    expect(last.previous).toMatchObject({ health: 'HEALTH_STATUS_HEALTHY', weight: 100 });
    expect(closed).toEqual([]);
    w.fail(grpc.status.UNAVAILABLE, 'bye');
    expect(ops.watchers).toBe(0);
    expect(closed).toEqual([w]);
  });

  it('closes with RESOURCE_EXHAUSTED past the backlog instead of buffering', () => {
    const ops = new FakeOperations({ clusters: ['demo'] });
    const { call } = fakeCall(1);
    const errors: Array<{ code: number; details: string }> = [];
    call.on('error', (err: { code: number; details: string }) => errors.push(err));
    const w = new WatchStream(call, { ops, logger: silentLogger(), now: Date.now, backlog: 5, onClose: () => undefined });
    w.start();
    for (let i = 0; i < 100; i++)
      ops.emit({
        kind: 'alert',
        at: i,
        alert: { id: `a${i}`, rule: 'r', level: 'info', subject: 's', message: 'm', state: 'firing', firedAt: i, lastSeenAt: i, count: 1 },
      });
    expect(w.isClosed).toBe(true);
    expect(w.queued).toBe(0);
    expect(ops.watchers).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'watch: more than 5 events behind; call Watch again to resync' });
  });
});
