/** GET /reports and /reports/:type on a real AdminServer over real HTTP (127.0.0.1, port 0). */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/admin/server.js';
import { adminSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { HistoryPoint } from '../../src/operations.js';
import { REPORT_TABLES } from '../../src/reports/document.js';
import { fileStamp } from '../../src/reports/format.js';
import { REPORT_FORMATS, REPORT_TYPES } from '../../src/reports/model.js';
import { HTML_CSP } from '../../src/reports/render/index.js';
import { createReportsHandler } from '../../src/reports/routes.js';
import { reportSchemas } from '../../src/reports/schema.js';
import type { Store } from '../../src/store/index.js';
import { HOSTILE, MINUTE, RANGE, seededOperations, seededStore } from '../support/report-fixtures.js';
import { waitFor } from '../support/wait.js';

const NOW = RANGE.to + MINUTE;
const TOKEN = 'reports-test-admin-token-0123';
const servers: AdminServer[] = [];
const stores: Store[] = [];

async function start(store: Store, extra: Parameters<typeof createReportsHandler>[2] = {}): Promise<string> {
  const ops = seededOperations();
  const server = new AdminServer({
    ops,
    metrics: createMetrics(ops),
    config: adminSchema.parse({ listen: '127.0.0.1:0', token: TOKEN }),
    logger: silentLogger(),
    env: {},
    reports: createReportsHandler(ops, store, { now: () => NOW, ...extra }),
  });
  servers.push(server);
  const { port } = await server.start();
  return `http://127.0.0.1:${port}`;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const s of stores) s.close();
});

const range = `from=${RANGE.from}&to=${RANGE.to}`;
const EXPECTED_TYPES = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  md: 'text/markdown; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};
const disposition = (type: string, from: number, to: number, ext: string, kind = 'attachment'): string =>
  `${kind}; filename="healthmesh-${type}-${fileStamp(from)}-${fileStamp(to)}.${ext}"`;

describe('reports over the admin endpoint', () => {
  let base: string;
  beforeAll(async () => {
    const store = seededStore();
    stores.push(store);
    base = await start(store);
  });

  it('GET /reports lists types, tables and formats; no token needed', async () => {
    const res = await fetch(`${base}/reports`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      types: Array<{ type: string; tables: string[] }>;
      formats: Array<{ format: string; contentType: string }>;
      maxRangeMs: number;
    };
    expect(body.types.map((t) => t.type)).toEqual([...REPORT_TYPES]);
    expect(body.types.find((t) => t.type === 'detailed')!.tables).toEqual(REPORT_TABLES.detailed);
    expect(body.formats.map((f) => f.format)).toEqual([...REPORT_FORMATS]);
    expect(body.maxRangeMs).toBe(31 * 86_400_000);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  describe.each(REPORT_TYPES)('GET /reports/%s', (type) => {
    it.each(REPORT_FORMATS)('format=%s: content type, disposition, body', async (format) => {
      const res = await fetch(`${base}/reports/${type}?format=${format}&${range}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(EXPECTED_TYPES[format]);
      expect(res.headers.get('content-disposition')).toBe(disposition(type, RANGE.from, RANGE.to, format));
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const buf = Buffer.from(await res.arrayBuffer());
      expect(buf.length).toBeGreaterThan(100);
      if (format === 'json') expect(() => reportSchemas[type].parse(JSON.parse(buf.toString('utf8')))).not.toThrow();
      if (format === 'xlsx') {
        expect(buf.subarray(0, 2).toString('latin1')).toBe('PK');
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(buf as unknown as ArrayBuffer);
        expect(wb.worksheets.map((w) => w.name)).toEqual(['report', ...REPORT_TABLES[type].slice().sort((a, b) => docOrder(type, a) - docOrder(type, b))]);
      }
      if (format === 'html') {
        expect(res.headers.get('content-security-policy')).toBe(`${HTML_CSP}; frame-ancestors 'none'`);
        expect(buf.toString('utf8')).not.toContain('<script>');
      }
      if (format === 'csv') expect(buf.toString('utf8').split('\r\n')[0]).not.toBe('');
    });
  });

  it('json is the default format; the range defaults to the last 24 h', async () => {
    const res = await fetch(`${base}/reports/summary`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(EXPECTED_TYPES.json);
    expect(res.headers.get('content-disposition')).toBe(disposition('summary', NOW - 86_400_000, NOW, 'json'));
    const body = (await res.json()) as { meta: { from: number; to: number } };
    expect(body.meta).toMatchObject({ from: NOW - 86_400_000, to: NOW });
  });

  it('ISO 8601 times, a cluster, a CSV table, inline HTML', async () => {
    let res = await fetch(`${base}/reports/alerts?format=json&from=2026-11-25T00:00:00Z&to=2026-11-25T06:00Z&cluster=web`);
    expect(res.status).toBe(200);
    const alerts = (await res.json()) as { meta: { from: number; cluster: string }; alerts: Array<{ cluster: string; message: string }> };
    expect(alerts.meta).toMatchObject({ from: RANGE.from, cluster: 'web' });
    expect(alerts.alerts.every((a) => a.cluster === 'web')).toBe(true);
    expect(alerts.alerts.map((a) => a.message)).toContain(HOSTILE.formula);

    res = await fetch(`${base}/reports/detailed?format=csv&table=reasons&${range}`);
    expect(res.status).toBe(200);
    expect((await res.text()).split('\r\n')[0]).toBe('Endpoint,Reason,Samples,First seen (UTC),Last seen (UTC)');

    res = await fetch(`${base}/reports/summary?format=html&download=0&${range}`);
    expect(res.headers.get('content-disposition')).toBe(disposition('summary', RANGE.from, RANGE.to, 'html', 'inline'));
    expect(res.headers.get('content-type')).toBe(EXPECTED_TYPES.html);
    await res.arrayBuffer();
  });

  it.each([
    ['/reports/summary?from=yesterday', 'from'],
    ['/reports/summary?to=tomorrow', 'to'],
    [`/reports/summary?from=${RANGE.to}&to=${RANGE.from}`, 'from'],
    [`/reports/summary?from=${RANGE.to - 32 * 86_400_000}&to=${RANGE.to}`, 'from'],
    ['/reports/summary?from=2026-02-30', 'from'],
    ['/reports/summary?cluster=nope', 'cluster'],
    ['/reports/summary?cluster=%3Cscript%3E', 'cluster'],
    ['/reports/summary?format=pdf', 'format'],
    ['/reports/summary?format=json&format=csv', 'format'],
    ['/reports/everything', 'type'],
    ['/reports/summary?colour=red', 'colour'],
    ['/reports/summary?format=json&table=clusters', 'table'],
    ['/reports/summary?format=csv&table=reasons', 'table'],
    ['/reports/summary?download=maybe', 'download'],
  ])('GET %s -> 400 naming %s', async (path, field) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: { code: string; field: string; message: string } };
    expect(body.error.code).toBe('INVALID_ARGUMENT');
    expect(body.error.field).toBe(field);
    expect(body.error.message).toMatch(new RegExp(`^${field}: `));
  });

  it('POST is not allowed (read-only)', async () => {
    const res = await fetch(`${base}/reports/summary`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});

function docOrder(type: (typeof REPORT_TYPES)[number], id: string): number {
  // Sheets follow the document's section order, which for every type is the order below.
  const order: Record<string, string[]> = {
    summary: ['clusters', 'endpoints', 'alert-levels'],
    detailed: ['clusters', 'endpoints', 'stats', 'reasons'],
    metrics: ['cluster-stats', 'cluster-series', 'endpoint-stats'],
    alerts: ['by-level', 'by-rule', 'alerts'],
    trends: ['cluster-trends', 'endpoint-trends'],
  };
  return order[type]!.indexOf(id);
}

describe('report builds are bounded', () => {
  it('at most maxConcurrent at once (503 beyond), and a build stops when its client goes away', async () => {
    const real = seededStore();
    stores.push(real);
    let started = false;
    let produced = 0;
    let closed = false;
    // A history far too long to finish: a point per ms for ~1.4 h.
    const endless: Store = Object.assign(Object.create(real) as Store, {
      historyRange: function* (): Generator<HistoryPoint> {
        started = true;
        try {
          for (let i = 0; i < 5_000_000; i++) {
            produced++;
            yield {
              key: 'web/10.0.0.1:8080',
              cluster: 'web',
              at: RANGE.from + i,
              score: 100,
              status: 'HEALTHY',
              circuit: 'closed',
              health: 'HEALTHY',
              weight: 100,
            };
          }
        } finally {
          closed = true;
        }
      },
    });
    const base = await start(endless, { maxConcurrent: 1, yieldEvery: 100 });
    const client = new AbortController();
    const first = fetch(`${base}/reports/detailed?${range}`, { signal: client.signal }).catch((err: unknown) => err);
    await waitFor(() => started, { timeoutMs: 10_000, what: 'the first build to start' });

    const second = await fetch(`${base}/reports/summary?${range}`);
    expect(second.status).toBe(503);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');

    client.abort();
    expect(await first).toBeInstanceOf(Error);
    await waitFor(() => closed, { timeoutMs: 10_000, what: 'the abandoned build to stop reading history' });
    expect(produced).toBeLessThan(5_000_000);

    // The slot is free again.
    const third = await waitFor(
      async () => {
        const r = await fetch(`${base}/reports/alerts?${range}`);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'a report after the abandoned one' },
    );
    expect(third.headers.get('content-type')).toBe(EXPECTED_TYPES.json);
  });
});
