import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  ALERT_LEVELS,
  CIRCUIT_STATES,
  PROBE_KINDS,
  PROBE_RESULTS,
  STATUSES,
  XDS_TYPES,
  createMetrics,
  xdsTypeShort,
  type ProbeKind,
} from '../../src/metrics.js';
import type { AlertLevel, ProxyRecord } from '../../src/operations.js';
import { FakeOperations, fakeEndpoint, seededOperations } from '../support/fake-operations.js';
import { parseExposition, type ExpositionSample } from '../support/exposition.js';

const TYPE_URL = {
  cds: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  eds: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  lds: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  rds: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
};

async function scrape(m: ReturnType<typeof createMetrics>): Promise<ReturnType<typeof parseExposition>> {
  return parseExposition(await m.text());
}

const pick = (samples: ExpositionSample[], name: string, labels: Record<string, string> = {}): ExpositionSample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const value = (samples: ExpositionSample[], name: string, labels: Record<string, string> = {}): number | undefined => {
  const found = pick(samples, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
};

const proxy = (protocol: 'sotw' | 'delta'): ProxyRecord => ({ streamId: 's', nodeId: 'n', protocol, peer: 'p', connectedAt: 0, types: {}, unknownTypes: [] });

describe('createMetrics: families, names and labels', () => {
  it('exports every healthmesh family with its type and label names', async () => {
    const { families, samples } = await scrape(createMetrics(seededOperations()));
    const ours = [...families].filter(([name]) => name.startsWith('healthmesh_'));
    const labelNames = (family: string): string[] =>
      [...new Set(samples.filter((s) => s.family === family).flatMap((s) => Object.keys(s.labels).filter((k) => k !== 'le')))].sort();
    const table = Object.fromEntries(ours.map(([name, f]) => [name, { type: f.type, labels: labelNames(name) }]));
    expect(table).toEqual({
      healthmesh_endpoint_score: { type: 'gauge', labels: ['cluster', 'endpoint'] },
      healthmesh_endpoint_weight: { type: 'gauge', labels: ['cluster', 'endpoint'] },
      healthmesh_endpoint_expected_share: { type: 'gauge', labels: ['cluster', 'endpoint'] },
      healthmesh_endpoint_healthy: { type: 'gauge', labels: ['cluster', 'endpoint'] },
      healthmesh_endpoint_drained: { type: 'gauge', labels: ['cluster', 'endpoint'] },
      healthmesh_endpoint_status: { type: 'gauge', labels: ['cluster', 'endpoint', 'status'] },
      healthmesh_endpoint_circuit: { type: 'gauge', labels: ['cluster', 'endpoint', 'state'] },
      healthmesh_cluster_endpoints: { type: 'gauge', labels: ['cluster', 'state'] },
      healthmesh_cluster_ejected: { type: 'gauge', labels: ['cluster'] },
      healthmesh_cluster_guarded: { type: 'gauge', labels: ['cluster'] },
      healthmesh_cluster_all_failing: { type: 'gauge', labels: ['cluster'] },
      healthmesh_xds_streams: { type: 'gauge', labels: ['protocol'] },
      healthmesh_alerts_firing: { type: 'gauge', labels: ['level'] },
      healthmesh_metrics_truncated: { type: 'gauge', labels: [] },
      healthmesh_checks_total: { type: 'counter', labels: ['kind', 'result'] },
      healthmesh_check_duration_seconds: { type: 'histogram', labels: ['kind'] },
      healthmesh_xds_pushes_total: { type: 'counter', labels: ['type'] },
      healthmesh_xds_push_messages_total: { type: 'counter', labels: ['type'] },
      healthmesh_xds_nacks_total: { type: 'counter', labels: ['type'] },
      healthmesh_xds_publish_to_ack_seconds: { type: 'histogram', labels: ['type'] },
      healthmesh_alerts_total: { type: 'counter', labels: ['level'] },
    });
    for (const [, f] of ours) expect(f.help.length).toBeGreaterThan(10);
  });

  it('includes the default Node process metrics, unless turned off', async () => {
    const withDefaults = await scrape(createMetrics(new FakeOperations()));
    expect(withDefaults.families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(withDefaults.families.has('nodejs_heap_size_total_bytes')).toBe(true);
    const without = await scrape(createMetrics(new FakeOperations(), { defaultMetrics: false }));
    expect([...without.families.keys()].every((n) => n.startsWith('healthmesh_'))).toBe(true);
  });

  it('uses a fresh registry per instance, or the one given', async () => {
    const a = createMetrics(new FakeOperations());
    const b = createMetrics(new FakeOperations());
    expect(a.registry).not.toBe(b.registry);
    const registry = new Registry();
    const c = createMetrics(new FakeOperations(), { registry, defaultMetrics: false });
    expect(c.registry).toBe(registry);
    expect(registry.getSingleMetric('healthmesh_endpoint_score')).toBeDefined();
    expect(c.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});

describe('createMetrics: collect-time gauges', () => {
  it('computes per-endpoint and per-cluster values from the facade at scrape time', async () => {
    const { samples } = await scrape(createMetrics(seededOperations(), { defaultMetrics: false }));
    const web2 = { cluster: 'web', endpoint: '10.0.0.2:8080' };
    expect(value(samples, 'healthmesh_endpoint_score', web2)).toBe(55);
    expect(value(samples, 'healthmesh_endpoint_weight', web2)).toBe(3);
    expect(value(samples, 'healthmesh_endpoint_expected_share', web2)).toBe(0.03);
    expect(value(samples, 'healthmesh_endpoint_healthy', web2)).toBe(1);
    expect(value(samples, 'healthmesh_endpoint_healthy', { cluster: 'web', endpoint: '10.0.0.3:8080' })).toBe(0);
    // One-hot: exactly the endpoint's status / circuit state is 1, every enum value is present.
    for (const status of STATUSES) expect(value(samples, 'healthmesh_endpoint_status', { ...web2, status })).toBe(status === 'DEGRADED' ? 1 : 0);
    for (const state of CIRCUIT_STATES) expect(value(samples, 'healthmesh_endpoint_circuit', { ...web2, state })).toBe(state === 'half-open' ? 1 : 0);
    expect(pick(samples, 'healthmesh_endpoint_score')).toHaveLength(4);

    expect(value(samples, 'healthmesh_cluster_endpoints', { cluster: 'web', state: 'HEALTHY' })).toBe(1);
    expect(value(samples, 'healthmesh_cluster_endpoints', { cluster: 'web', state: 'DEGRADED' })).toBe(1);
    expect(value(samples, 'healthmesh_cluster_endpoints', { cluster: 'web', state: 'UNHEALTHY' })).toBe(1);
    expect(value(samples, 'healthmesh_cluster_endpoints', { cluster: 'batch', state: 'HEALTHY' })).toBe(0);
    expect(value(samples, 'healthmesh_cluster_ejected', { cluster: 'web' })).toBe(1);
    expect(value(samples, 'healthmesh_cluster_guarded', { cluster: 'api' })).toBe(1);
    expect(value(samples, 'healthmesh_cluster_all_failing', { cluster: 'api' })).toBe(1);
    expect(value(samples, 'healthmesh_cluster_all_failing', { cluster: 'web' })).toBe(0);
    // Closed streams do not count.
    expect(value(samples, 'healthmesh_xds_streams', { protocol: 'sotw' })).toBe(1);
    expect(value(samples, 'healthmesh_xds_streams', { protocol: 'delta' })).toBe(2);
    expect(value(samples, 'healthmesh_alerts_firing', { level: 'warning' })).toBe(1);
    expect(value(samples, 'healthmesh_alerts_firing', { level: 'critical' })).toBe(1);
    expect(value(samples, 'healthmesh_alerts_firing', { level: 'info' })).toBe(0);
    expect(value(samples, 'healthmesh_metrics_truncated')).toBe(0);
  });

  it('follows changes between scrapes: a removed endpoint leaves no stale series', async () => {
    const ops = seededOperations();
    const m = createMetrics(ops, { defaultMetrics: false });
    await scrape(m);
    ops.endpointMap.delete('web/10.0.0.3:8080');
    ops.endpointMap.set('web/10.0.0.1:8080', fakeEndpoint('web', '10.0.0.1', 8080, { score: 42 }));
    ops.proxyList.push(proxy('sotw'));
    const { samples } = await scrape(m);
    expect(pick(samples, 'healthmesh_endpoint_score', { endpoint: '10.0.0.3:8080' })).toEqual([]);
    expect(pick(samples, 'healthmesh_endpoint_status', { endpoint: '10.0.0.3:8080' })).toEqual([]);
    expect(value(samples, 'healthmesh_endpoint_score', { cluster: 'web', endpoint: '10.0.0.1:8080' })).toBe(42);
    expect(value(samples, 'healthmesh_cluster_endpoints', { cluster: 'web', state: 'UNHEALTHY' })).toBe(0);
    expect(value(samples, 'healthmesh_xds_streams', { protocol: 'sotw' })).toBe(2);
  });

  it('asks the facade once per scrape, not once per gauge', async () => {
    const ops = seededOperations();
    const m = createMetrics(ops, { defaultMetrics: false });
    await scrape(m);
    await scrape(m);
    expect(ops.args.endpoints).toHaveLength(2);
    expect(ops.args.alerts).toHaveLength(2);
  });
});

describe('createMetrics: label cardinality cap', () => {
  const fleet = (n: number): FakeOperations =>
    new FakeOperations({
      endpoints: Array.from({ length: n }, (_, i) => fakeEndpoint(i % 2 ? 'odd' : 'even', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 8080)),
    });

  it.each([
    { endpoints: 3, cap: 3, truncated: false },
    { endpoints: 4, cap: 3, truncated: true },
    { endpoints: 1, cap: 0, truncated: true },
  ])('$endpoints endpoints, cap $cap: truncated=$truncated', async ({ endpoints, cap, truncated }) => {
    const { samples } = await scrape(createMetrics(fleet(endpoints), { maxEndpointSeries: cap, defaultMetrics: false }));
    expect(value(samples, 'healthmesh_metrics_truncated')).toBe(truncated ? 1 : 0);
    const perEndpoint = samples.filter((s) => s.name.startsWith('healthmesh_endpoint_'));
    if (truncated) expect(perEndpoint).toEqual([]);
    else expect(pick(samples, 'healthmesh_endpoint_score')).toHaveLength(endpoints);
    // Cluster aggregates stay, and add up to the whole fleet.
    const total = pick(samples, 'healthmesh_cluster_endpoints').reduce((sum, s) => sum + s.value, 0);
    expect(total).toBe(endpoints);
  });

  it('defaults to 5,000 endpoints', async () => {
    const atCap = await scrape(createMetrics(fleet(5000), { defaultMetrics: false }));
    expect(value(atCap.samples, 'healthmesh_metrics_truncated')).toBe(0);
    expect(pick(atCap.samples, 'healthmesh_endpoint_score')).toHaveLength(5000);
    const over = await scrape(createMetrics(fleet(5001), { defaultMetrics: false }));
    expect(value(over.samples, 'healthmesh_metrics_truncated')).toBe(1);
    expect(over.samples.filter((s) => s.labels.endpoint !== undefined)).toEqual([]);
    expect(value(over.samples, 'healthmesh_cluster_endpoints', { cluster: 'odd', state: 'HEALTHY' })).toBe(2500);
  });

  it('refuses a nonsensical cap', () => {
    expect(() => createMetrics(new FakeOperations(), { maxEndpointSeries: -1 })).toThrow(RangeError);
    expect(() => createMetrics(new FakeOperations(), { maxEndpointSeries: 1.5 })).toThrow(RangeError);
  });
});

describe('createMetrics: event-fed metrics', () => {
  it('starts every enum series at zero', async () => {
    const { samples } = await scrape(createMetrics(new FakeOperations(), { defaultMetrics: false }));
    for (const kind of PROBE_KINDS) {
      for (const result of PROBE_RESULTS) expect(value(samples, 'healthmesh_checks_total', { kind, result })).toBe(0);
      expect(value(samples, 'healthmesh_check_duration_seconds_count', { kind })).toBe(0);
    }
    for (const type of XDS_TYPES) {
      expect(value(samples, 'healthmesh_xds_pushes_total', { type })).toBe(0);
      expect(value(samples, 'healthmesh_xds_nacks_total', { type })).toBe(0);
      expect(value(samples, 'healthmesh_xds_publish_to_ack_seconds_count', { type })).toBe(0);
    }
    for (const level of ALERT_LEVELS) expect(value(samples, 'healthmesh_alerts_total', { level })).toBe(0);
  });

  it('counts probes by kind and result, with their duration', async () => {
    const m = createMetrics(new FakeOperations(), { defaultMetrics: false });
    m.observeProbe('http', { at: 0, ok: true, latencyMs: 20, detail: 'HTTP 200' });
    m.observeProbe('http', { at: 0, ok: false, latencyMs: 3, detail: 'HTTP 503' });
    m.observeProbe('http', { at: 0, ok: false, latencyMs: 500, detail: 'timeout after 500 ms', timedOut: true });
    m.observeProbe('dependency', { at: 0, ok: true, latencyMs: 1, detail: 'connected' });
    const { samples } = await scrape(m);
    expect(value(samples, 'healthmesh_checks_total', { kind: 'http', result: 'ok' })).toBe(1);
    expect(value(samples, 'healthmesh_checks_total', { kind: 'http', result: 'fail' })).toBe(1);
    expect(value(samples, 'healthmesh_checks_total', { kind: 'http', result: 'timeout' })).toBe(1);
    expect(value(samples, 'healthmesh_checks_total', { kind: 'dependency', result: 'ok' })).toBe(1);
    expect(value(samples, 'healthmesh_check_duration_seconds_count', { kind: 'http' })).toBe(3);
    expect(value(samples, 'healthmesh_check_duration_seconds_sum', { kind: 'http' })).toBeCloseTo(0.523, 6);
    expect(value(samples, 'healthmesh_check_duration_seconds_bucket', { kind: 'http', le: '0.025' })).toBe(2);
  });

  it('counts pushes and the responses they sent', async () => {
    const m = createMetrics(new FakeOperations(), { defaultMetrics: false });
    m.observePush('eds', 10);
    m.observePush('eds', 0);
    m.observePush('cds', 3);
    const { samples } = await scrape(m);
    expect(value(samples, 'healthmesh_xds_pushes_total', { type: 'eds' })).toBe(2);
    expect(value(samples, 'healthmesh_xds_push_messages_total', { type: 'eds' })).toBe(10);
    expect(value(samples, 'healthmesh_xds_pushes_total', { type: 'cds' })).toBe(1);
  });

  it('maps ledger events by type URL to NACK counts and publish-to-ACK latency', async () => {
    const m = createMetrics(new FakeOperations(), { defaultMetrics: false });
    const p = proxy('delta');
    m.observeLedger({ kind: 'nack', proxy: p, typeUrl: TYPE_URL.cds, nack: { version: 'v1', message: 'bad', code: 3, at: 0, resources: ['c'] } });
    m.observeLedger({ kind: 'ack', proxy: p, typeUrl: TYPE_URL.eds, version: 'v2', publishToAckMs: 40 });
    m.observeLedger({ kind: 'ack', proxy: p, typeUrl: TYPE_URL.eds, version: 'v3', publishToAckMs: 2000 });
    m.observeLedger({
      kind: 'nack',
      proxy: p,
      typeUrl: 'type.googleapis.com/evil.<script>',
      nack: { version: 'v1', message: 'x', code: 3, at: 0, resources: [] },
    });
    const { samples } = await scrape(m);
    expect(value(samples, 'healthmesh_xds_nacks_total', { type: 'cds' })).toBe(1);
    expect(value(samples, 'healthmesh_xds_publish_to_ack_seconds_count', { type: 'eds' })).toBe(2);
    expect(value(samples, 'healthmesh_xds_publish_to_ack_seconds_sum', { type: 'eds' })).toBeCloseTo(2.04, 6);
    expect(
      pick(samples, 'healthmesh_xds_nacks_total')
        .map((s) => s.labels.type)
        .sort(),
    ).toEqual([...XDS_TYPES].sort());
  });

  it.each(Object.entries(TYPE_URL))('xdsTypeShort maps %s', (short, url) => {
    expect(xdsTypeShort(url)).toBe(short);
  });

  it('counts alerts by level', async () => {
    const m = createMetrics(new FakeOperations(), { defaultMetrics: false });
    m.observeAlert('critical');
    m.observeAlert('critical');
    const { samples } = await scrape(m);
    expect(value(samples, 'healthmesh_alerts_total', { level: 'critical' })).toBe(2);
  });

  it('never turns unexpected input into a label value', async () => {
    const m = createMetrics(new FakeOperations(), { defaultMetrics: false });
    m.observeProbe('ldap' as ProbeKind, { at: 0, ok: true, latencyMs: 1, detail: '' });
    m.observeProbe('http', { at: 0, ok: true, latencyMs: Number.NaN, detail: '' });
    m.observePush('sds' as never, 1);
    m.observeAlert('panic' as AlertLevel);
    m.observeLedger({ kind: 'ack', proxy: proxy('sotw'), typeUrl: 'x/y', version: 'v', publishToAckMs: 1 });
    const { samples } = await scrape(m);
    const allowed: Record<string, readonly string[]> = { kind: PROBE_KINDS, result: PROBE_RESULTS, type: XDS_TYPES, level: ALERT_LEVELS };
    for (const s of samples) {
      for (const [label, values] of Object.entries(allowed)) if (s.labels[label] !== undefined) expect(values).toContain(s.labels[label]);
    }
    expect(value(samples, 'healthmesh_checks_total', { kind: 'http', result: 'ok' })).toBe(1);
    expect(value(samples, 'healthmesh_check_duration_seconds_count', { kind: 'http' })).toBe(0);
  });
});

describe('parseExposition (the checker the metric tests rely on)', () => {
  it('accepts well-formed text and rejects samples outside a declared family', () => {
    const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"uote"} 3\n\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n';
    const { samples } = parseExposition(ok);
    expect(samples.map((s) => s.family)).toEqual(['a_total', 'h', 'h', 'h']);
    expect(samples[0]?.labels).toEqual({ x: '1', y: 'q"uote' });
    expect(() => parseExposition('b 1\n')).toThrow(/no # TYPE family/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket 1\n')).toThrow(/no # TYPE family/);
    expect(() => parseExposition('# TYPE a gauge\na{x=1} 1\n')).toThrow(/bad labels/);
    expect(() => parseExposition('# TYPE a gauge\na one\n')).toThrow(/bad value/);
    expect(() => parseExposition('# TYPE a gauge\n# TYPE a gauge\n')).toThrow(/declared twice/);
  });
});
