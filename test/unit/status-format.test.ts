import { describe, expect, it } from 'vitest';
import { endpointToWire, proxyToWire } from '../../src/status/convert.js';
import { proxyReport, shortEnum, statusReport, table, toJson, truncate, typeName, watchLine } from '../../src/status/format.js';
import { FakeOperations } from '../support/fake-operations.js';

describe('CLI formatting', () => {
  it.each([
    ['HEALTH_STATUS_HEALTHY', 'HEALTHY'],
    ['HEALTH_STATUS_DRAINING', 'DRAINING'],
    ['CIRCUIT_STATE_HALF_OPEN', 'half-open'],
    ['XDS_PROTOCOL_DELTA', 'delta'],
    ['ALERT_LEVEL_CRITICAL', 'CRITICAL'],
    ['ALERT_STATE_FIRING', 'firing'],
    [7, '7'],
  ])('shortEnum(%s) = %s', (v, s) => expect(shortEnum(v)).toBe(s));

  it('pads columns but not the last one, and truncates long text to one line', () => {
    expect(
      table(
        ['A', 'BB', 'C'],
        [
          ['xxx', 'y', 'last column'],
          ['', 'zz', ''],
        ],
      ),
    ).toBe('A    BB  C\nxxx  y   last column\n     zz');
    expect(truncate('a\n  b', 10)).toBe('a b');
    expect(truncate('abcdefghijkl', 8)).toBe('abcde...');
  });

  it('renders endpoints with flags, IPv6 brackets and cluster summaries', () => {
    const ops = new FakeOperations({ clusters: ['demo'], now: () => 0 });
    const eps = [
      ops.seed({
        cluster: 'demo',
        address: '::1',
        port: 80,
        status: 'UNHEALTHY',
        health: 'UNHEALTHY',
        circuit: 'open',
        weight: 0,
        drained: true,
        guarded: true,
        reasons: ['x'.repeat(100)],
      }),
      ops.seed({ cluster: 'demo', address: '10.0.0.1', port: 80, score: 87.25, expectedShare: 1 }),
    ].map(endpointToWire);
    const out = statusReport(
      [{ name: 'demo', total: 2, healthy: 1, failing: 1, ejected: 0, guarded: 1, max_ejected: 1, all_failing: false, reason: 'guard kept 1 failing endpoint' }],
      eps,
    );
    const lines = out.split('\n');
    expect(lines[1]).toMatch(/^demo\s+10\.0\.0\.1:80\s+HEALTHY\s+closed\s+HEALTHY\s+100\/100\s+87\.3\s+100\.0%\s+-$/);
    expect(lines[2]).toMatch(/^demo\s+\[::1\]:80\s+UNHEALTHY \(drained, guarded\)\s+open\s+UNHEALTHY\s+0\/100\s+100\s+0\.0%\s+x{57}\.\.\.$/);
    expect(lines[4]).toBe('cluster demo: 1/2 healthy, 1 failing, 0 ejected (max 1), 1 guarded - guard kept 1 failing endpoint');
    expect(statusReport([], [])).toBe('no endpoints\n');
  });

  it('renders every kind of watch event as one line', () => {
    const ops = new FakeOperations({ clusters: ['demo'], now: () => 0 });
    const e = endpointToWire(ops.seed({ cluster: 'demo', address: 'h', port: 1, reasons: ['ok now'] }));
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
    expect(watchLine({ at_ms: at, event: 'endpoint', endpoint: e, previous: null })).toBe(
      '2024-01-02T03:04:05.006Z endpoint demo/h:1 HEALTHY status HEALTHY circuit closed weight 100/100 score 100 "ok now"',
    );
    expect(watchLine({ at_ms: at, event: 'endpoint_removed', endpoint_removed: { key: 'demo/h:1', cluster: 'demo' }, previous: null })).toBe(
      '2024-01-02T03:04:05.006Z endpoint demo/h:1 removed',
    );
    expect(watchLine({ at_ms: at, event: 'synced', synced: { clusters: 1, endpoints: 2 }, previous: null })).toBe(
      '2024-01-02T03:04:05.006Z synced (1 clusters, 2 endpoints)',
    );
    expect(
      watchLine({
        at_ms: at,
        event: 'cluster',
        cluster: { name: 'demo', total: 2, healthy: 0, failing: 2, ejected: 1, guarded: 1, max_ejected: 1, all_failing: true, reason: '' },
        previous: null,
      }),
    ).toBe('2024-01-02T03:04:05.006Z cluster demo: 0/2 healthy, 2 failing, 1 ejected (max 1), 1 guarded, ALL FAILING');
    expect(
      watchLine({
        at_ms: at,
        event: 'alert',
        alert: {
          id: 'a',
          rule: 'nack',
          level: 'ALERT_LEVEL_CRITICAL',
          subject: 'envoy-1',
          cluster: '',
          message: 'rejected v3',
          state: 'ALERT_STATE_FIRING',
          fired_at_ms: at,
          last_seen_at_ms: at,
          resolved_at_ms: 0,
          acknowledged_at_ms: 0,
          acknowledged_by: '',
          count: 1,
        },
        previous: null,
      }),
    ).toBe('2024-01-02T03:04:05.006Z alert CRITICAL firing nack envoy-1: rejected v3');
  });

  it('renders proxies, one row per type, and a placeholder when none is connected', () => {
    expect(proxyReport([])).toBe('no proxies connected\n');
    const p = proxyToWire({ streamId: 's', nodeId: 'n1', protocol: 'sotw', peer: 'p', connectedAt: 1, unknownTypes: [], types: {} });
    expect(proxyReport([p]).split('\n')[1]).toMatch(/^n1\s+sotw\s+p\s+-\s+-\s+-\s+-\s+0\s+-$/);
    expect(typeName('type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment')).toBe('EDS');
    expect(typeName('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret')).toBe('Secret');
  });

  it("drops proto-loader's synthetic oneof names from JSON", () => {
    expect(toJson({ cpu_percent: 3, _cpu_percent: 'cpu_percent', nested: [{ _x: 'x', y: 1 }] })).toBe('{"cpu_percent":3,"nested":[{"y":1}]}');
  });
});
