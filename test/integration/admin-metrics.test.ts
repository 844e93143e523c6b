import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/admin/server.js';
import { adminSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics, type HealthmeshMetrics } from '../../src/metrics.js';
import { fakeEndpoint, seededOperations, type FakeOperations } from '../support/fake-operations.js';
import { parseExposition } from '../support/exposition.js';

const TOKEN = 'metrics-test-token-0123456789';

describe('GET /metrics on a real admin server', () => {
  let server: AdminServer;
  let ops: FakeOperations;
  let metrics: HealthmeshMetrics;
  let base: string;

  beforeAll(async () => {
    ops = seededOperations();
    metrics = createMetrics(ops, { maxEndpointSeries: 4 });
    server = new AdminServer({ ops, metrics, config: adminSchema.parse({ listen: '127.0.0.1:0', token: TOKEN }), logger: silentLogger() });
    const { port } = await server.start();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => server.stop());

  const scrape = async (): Promise<ReturnType<typeof parseExposition>> => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parseExposition(await res.text());
  };

  it('is valid exposition text: every sample belongs to a # TYPE family', async () => {
    metrics.observeProbe('http', { at: 0, ok: true, latencyMs: 12, detail: 'HTTP 200' });
    metrics.observeProbe('grpc', { at: 0, ok: false, latencyMs: 1000, detail: 'timeout', timedOut: true });
    metrics.observePush('eds', 3);
    metrics.observeLedger({
      kind: 'ack',
      proxy: ops.proxyList[0]!,
      typeUrl: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
      version: 'v1',
      publishToAckMs: 30,
    });
    metrics.observeAlert('warning');
    const { families, samples } = await scrape();
    expect(families.get('healthmesh_checks_total')?.type).toBe('counter');
    expect(families.get('process_resident_memory_bytes')?.type).toBe('gauge');
    expect(samples.find((s) => s.name === 'healthmesh_checks_total' && s.labels.kind === 'grpc' && s.labels.result === 'timeout')?.value).toBe(1);
    expect(samples.find((s) => s.name === 'healthmesh_xds_publish_to_ack_seconds_count' && s.labels.type === 'eds')?.value).toBe(1);
    expect(samples.find((s) => s.name === 'healthmesh_endpoint_score' && s.labels.endpoint === '10.0.0.2:8080')?.value).toBe(55);
    // Every family has HELP text, and every histogram with samples has its +Inf bucket. (A labelled histogram
    // nothing was observed in yet, e.g. nodejs_gc_duration_seconds before the first GC is reported, has none.)
    for (const [name, f] of families) {
      expect(f.help, name).not.toBe('');
      if (f.type === 'histogram' && samples.some((s) => s.family === name))
        expect(
          samples.some((s) => s.family === name && s.labels.le === '+Inf'),
          name,
        ).toBe(true);
    }
    expect(samples.some((s) => s.family === 'healthmesh_xds_publish_to_ack_seconds' && s.labels.le === '+Inf')).toBe(true);
  });

  it('drops per-endpoint series past the cap and says so', async () => {
    ops.endpointMap.set('web/10.0.0.4:8080', fakeEndpoint('web', '10.0.0.4', 8080));
    try {
      const { samples } = await scrape();
      expect(samples.filter((s) => s.name.startsWith('healthmesh_endpoint_'))).toEqual([]);
      expect(samples.find((s) => s.name === 'healthmesh_metrics_truncated')?.value).toBe(1);
      expect(samples.find((s) => s.name === 'healthmesh_cluster_endpoints' && s.labels.cluster === 'web' && s.labels.state === 'HEALTHY')?.value).toBe(2);
    } finally {
      ops.endpointMap.delete('web/10.0.0.4:8080');
    }
    const { samples } = await scrape();
    expect(samples.find((s) => s.name === 'healthmesh_metrics_truncated')?.value).toBe(0);
  });

  it('never turns request input into label values', async () => {
    const evil = 'evil<script>';
    await fetch(`${base}/status?cluster=${encodeURIComponent(evil)}`);
    await fetch(`${base}/status/${encodeURIComponent(evil)}/1.2.3.4:80`);
    await fetch(`${base}/metrics?x=${encodeURIComponent(evil)}`);
    await fetch(`${base}/endpoints/web/10.0.0.1:8080/drain`, { method: 'POST', headers: { authorization: `Bearer ${evil}` } });
    await fetch(`${base}/${evil}`);
    const { samples } = await scrape();
    const values = new Set(samples.flatMap((s) => Object.values(s.labels)));
    for (const v of values) expect(v).not.toContain('evil');
  });
});
