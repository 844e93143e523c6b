import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { buildReport, knownClusters, type ReportSource } from '../../src/reports/build.js';
import type { AlertsReport, DetailedReport, MetricsReport, SummaryReport, TrendsReport } from '../../src/reports/model.js';
import { reportSchemas } from '../../src/reports/schema.js';
import type { Store } from '../../src/store/index.js';
import { ENDPOINTS, HOSTILE, HOUR, MINUTE, RANGE, T0, seededOperations, seededPoints, seededStore } from '../support/report-fixtures.js';

const NOW = RANGE.to + MINUTE;
let store: Store;
let live: ReportSource;
let offline: ReportSource;

beforeAll(() => {
  store = seededStore();
  live = { store, ops: seededOperations() };
  offline = { store };
});
afterAll(() => store.close());

const opts = { now: () => NOW };
const byKey = <T extends { key: string }>(items: readonly T[], key: string): T => {
  const found = items.find((i) => i.key === key);
  if (!found) throw new Error(`no ${key}`);
  return found;
};

async function invalidField(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidArgumentError);
  return (err as InvalidArgumentError).field;
}

describe('summary', () => {
  let r: SummaryReport;
  beforeAll(async () => {
    r = await buildReport(live, 'summary', RANGE, opts);
  });

  it('validates against the JSON schema', () => {
    expect(() => reportSchemas.summary.parse(JSON.parse(JSON.stringify(r)))).not.toThrow();
    expect(r.meta).toMatchObject({
      type: 'summary',
      from: RANGE.from,
      to: RANGE.to,
      cluster: null,
      source: 'live',
      generatedAt: NOW,
      points: seededPoints().length,
    });
  });

  it('availability is the time-weighted share of HEALTHY', () => {
    // steady: 360 one-minute points, all HEALTHY, each holding until the next (the last until `to`).
    expect(byKey(r.endpoints, ENDPOINTS.steady.key)).toMatchObject({
      samples: 360,
      coveredMs: 6 * HOUR,
      healthyMs: 6 * HOUR,
      availabilityPercent: 100,
      incidents: 0,
    });
    // sick: 60 min DEGRADED + 30 min UNHEALTHY + 10 min half-open DEGRADED = 100 of 360 minutes.
    expect(byKey(r.endpoints, ENDPOINTS.sick.key)).toMatchObject({ coveredMs: 6 * HOUR, healthyMs: 260 * MINUTE, incidents: 1 });
    expect(byKey(r.endpoints, ENDPOINTS.sick.key).availabilityPercent).toBeCloseTo((260 / 360) * 100, 3);
    // flappy: down 2 of every 20 minutes, 18 times.
    expect(byKey(r.endpoints, ENDPOINTS.flappy.key)).toMatchObject({ availabilityPercent: 90, incidents: 18 });
  });

  it('a gap in the history is not counted as covered time', () => {
    const e = byKey(r.endpoints, ENDPOINTS.errors.key);
    // 320 points; the one before the 40 min gap holds for at most 3 × the median spacing.
    expect(e.samples).toBe(320);
    expect(e.coveredMs).toBe(319 * MINUTE + 3 * MINUTE);
    const pts = seededPoints().filter((p) => p.key === ENDPOINTS.errors.key);
    const healthy = pts.reduce((s, p, i) => s + (p.status === 'HEALTHY' ? Math.min((pts[i + 1]?.at ?? RANGE.to) - p.at, 3 * MINUTE) : 0), 0);
    expect(e.healthyMs).toBe(healthy);
    expect(e.availabilityPercent).toBeCloseTo((100 * healthy) / e.coveredMs, 3);
  });

  it('a single point holds for the minimum gap cap only', () => {
    expect(byKey(r.endpoints, ENDPOINTS.lonely.key)).toMatchObject({ samples: 1, coveredMs: 30_000, availabilityPercent: 100 });
  });

  it('live endpoints without history are listed with no availability', () => {
    expect(byKey(r.endpoints, 'edge:v2.eu-1/10.0.2.2:7000')).toMatchObject({
      samples: 0,
      coveredMs: 0,
      availabilityPercent: null,
      current: { status: 'HEALTHY', score: 100, at: NOW },
    });
    expect(r.endpoints.map((e) => e.key)).toEqual([...r.endpoints.map((e) => e.key)].sort());
  });

  it('cluster totals and current state', () => {
    const web = r.clusters.find((c) => c.name === 'web')!;
    expect(web).toMatchObject({ endpoints: 3, incidents: 19, coveredMs: 18 * HOUR, currentStatus: { HEALTHY: 2, DEGRADED: 0, UNHEALTHY: 1 } });
    expect(web.availabilityPercent).toBeCloseTo(((360 + 260 + 324) / (3 * 360)) * 100, 3);
    expect(web.current).toMatchObject({ total: 3, ejected: 1 });
    expect(r.clusters.map((c) => c.name)).toEqual(['api', 'edge:v2.eu-1', 'web']);
    expect(r.totals).toMatchObject({ clusters: 3, endpoints: 6, incidents: 19 });
  });

  it('alert counts by level over the range', () => {
    expect(r.alerts).toEqual({ total: 5, firing: 1, byLevel: { info: 1, warning: 3, critical: 1 } });
  });

  it('one cluster', async () => {
    const web = await buildReport(live, 'summary', { ...RANGE, cluster: 'web' }, opts);
    expect(web.meta.cluster).toBe('web');
    expect(new Set(web.endpoints.map((e) => e.cluster))).toEqual(new Set(['web']));
    expect(web.clusters.map((c) => c.name)).toEqual(['web']);
    expect(web.alerts.total).toBe(3);
  });

  it('offline: current state is the last recorded point', async () => {
    const o = await buildReport(offline, 'summary', RANGE, opts);
    expect(o.meta.source).toBe('store');
    expect(o.endpoints.map((e) => e.key)).not.toContain('edge:v2.eu-1/10.0.2.2:7000');
    expect(byKey(o.endpoints, ENDPOINTS.flappy.key).current).toMatchObject({ status: 'UNHEALTHY', health: 'UNHEALTHY', at: RANGE.to - MINUTE });
    expect(o.clusters.every((c) => c.current === null)).toBe(true);
    expect(byKey(o.endpoints, ENDPOINTS.sick.key).availabilityPercent).toBe(byKey(r.endpoints, ENDPOINTS.sick.key).availabilityPercent);
  });
});

describe('validation', () => {
  it.each([
    [{ from: RANGE.to, to: RANGE.from }, 'from'],
    [{ from: RANGE.to, to: RANGE.to }, 'from'],
    [{ from: RANGE.to - 32 * 24 * HOUR, to: RANGE.to }, 'from'],
    [{ ...RANGE, cluster: 'nope' }, 'cluster'],
    [{ ...RANGE, cluster: 'we b' }, 'cluster'],
  ])('%j -> field %s', async (q, field) => {
    expect(await invalidField(buildReport(live, 'summary', q, opts))).toBe(field);
  });

  it('a cluster known only from history (removed from the config) is accepted', async () => {
    const ops = seededOperations();
    ops.endpointMap.delete(ENDPOINTS.errors.key);
    expect(knownClusters({ store, ops }, RANGE)).toContain('api');
    await expect(buildReport({ store, ops }, 'summary', { ...RANGE, cluster: 'api' }, opts)).resolves.toMatchObject({ meta: { cluster: 'api' } });
  });

  it('an aborted build stops with the abort reason', async () => {
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    await expect(buildReport(live, 'detailed', RANGE, { ...opts, signal: ac.signal, yieldEvery: 10 })).rejects.toThrow('client went away');
  });
});

describe('detailed', () => {
  let r: DetailedReport;
  beforeAll(async () => {
    r = await buildReport(live, 'detailed', RANGE, { ...opts, seriesPoints: 50 });
  });

  it('validates against the JSON schema', () => {
    expect(() => reportSchemas.detailed.parse(JSON.parse(JSON.stringify(r)))).not.toThrow();
  });

  it('time in each status, circuit trips and reasons', () => {
    const sick = byKey(r.endpoints, ENDPOINTS.sick.key);
    expect(sick.timeInStatus).toEqual({ HEALTHY: 260 * MINUTE, DEGRADED: 70 * MINUTE, UNHEALTHY: 30 * MINUTE });
    expect(sick.timeInHealth).toMatchObject({ UNHEALTHY: 30 * MINUTE, DRAINING: 0 });
    expect(sick.circuitTrips).toBe(1);
    expect(sick.lastCircuit).toBe('closed');
    const reasons = sick.reasons.map((x) => x.reason);
    expect(reasons).toEqual(expect.arrayContaining([HOSTILE.script, HOSTILE.formula, HOSTILE.pipe, HOSTILE.minus, HOSTILE.newline, 'probation']));
    const script = sick.reasons.find((x) => x.reason === HOSTILE.script)!;
    expect(script).toEqual({ reason: HOSTILE.script, count: 60, firstAt: T0 + 2 * HOUR, lastAt: T0 + 3 * HOUR - MINUTE });
    expect(byKey(r.endpoints, ENDPOINTS.flappy.key).circuitTrips).toBe(18);
  });

  it('stats of every metric (min / mean / p95 / max)', () => {
    const steady = byKey(r.endpoints, ENDPOINTS.steady.key);
    const mem = seededPoints()
      .filter((p) => p.key === ENDPOINTS.steady.key)
      .map((p) => p.memoryPercent!)
      .sort((a, b) => a - b);
    expect(steady.stats.memoryPercent!.n).toBe(360);
    expect(steady.stats.memoryPercent!.min).toBeCloseTo(mem[0]!, 3);
    expect(steady.stats.memoryPercent!.max).toBeCloseTo(mem[359]!, 3);
    expect(steady.stats.memoryPercent!.p95).toBeCloseTo(mem[Math.ceil(0.95 * 360) - 1]!, 3);
    expect(steady.stats.memoryPercent!.mean).toBeCloseTo(mem.reduce((s, v) => s + v, 0) / 360, 3);
    expect(steady.stats.errorRate).toBeNull();
    expect(byKey(r.endpoints, ENDPOINTS.errors.key).stats.cpuPercent).toBeNull();
  });

  it('downsampled series for charts', () => {
    const steady = byKey(r.endpoints, ENDPOINTS.steady.key);
    expect(steady.series.score).toHaveLength(50);
    expect(steady.series.errorRate).toEqual([]);
    const ts = steady.series.memoryPercent.map((p) => p.t);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });
});

describe('metrics', () => {
  let r: MetricsReport;
  beforeAll(async () => {
    r = await buildReport(live, 'metrics', RANGE, { ...opts, buckets: 36 });
  });

  it('validates against the JSON schema; per-cluster series are bucket means across endpoints', () => {
    expect(() => reportSchemas.metrics.parse(JSON.parse(JSON.stringify(r)))).not.toThrow();
    expect(r.bucketMs).toBe(10 * MINUTE);
    const web = r.clusters.find((c) => c.name === 'web')!;
    expect(web.endpoints).toBe(3);
    expect(web.series.score).toHaveLength(36);
    // First bucket: mean over the three endpoints of their own 10-minute means.
    const pts = seededPoints().filter((p) => p.cluster === 'web' && p.at < T0 + 10 * MINUTE);
    const perEndpoint = [ENDPOINTS.steady, ENDPOINTS.sick, ENDPOINTS.flappy].map((e) => {
      const mine = pts.filter((p) => p.key === e.key);
      return mine.reduce((s, p) => s + p.score, 0) / mine.length;
    });
    expect(web.series.score[0]!.t).toBe(T0);
    expect(web.series.score[0]!.v).toBeCloseTo(perEndpoint.reduce((s, v) => s + v, 0) / 3, 3);
    expect(r.endpoints.map((e) => e.key)).toContain(ENDPOINTS.lonely.key);
  });
});

describe('alerts', () => {
  let r: AlertsReport;
  beforeAll(async () => {
    r = await buildReport(live, 'alerts', RANGE, opts);
  });

  it('validates against the JSON schema; only alerts active in the range', () => {
    expect(() => reportSchemas.alerts.parse(JSON.parse(JSON.stringify(r)))).not.toThrow();
    expect(r.alerts.map((a) => a.id)).toEqual(['a-nack', 'a-flappy', 'a-sick-degraded', 'a-sick-unhealthy', 'a-errors']);
  });

  it('durations, MTTR, by level and by rule', () => {
    expect(r.alerts.find((a) => a.id === 'a-flappy')!.durationMs).toBe(5 * HOUR); // firing: until the end of the range
    expect(r.totals).toMatchObject({ total: 5, firing: 1, resolved: 4, acknowledged: 1, mttrMs: ((30 + 60 + 30 + 6) / 4) * MINUTE });
    expect(r.byLevel.map((g) => [g.name, g.count])).toEqual([
      ['info', 1],
      ['warning', 3],
      ['critical', 1],
    ]);
    expect(r.byLevel.find((g) => g.name === 'critical')).toMatchObject({ resolved: 1, mttrMs: 30 * MINUTE, maxDurationMs: 30 * MINUTE });
    expect(r.byRule[0]).toMatchObject({ name: 'endpointDegraded', count: 2, mttrMs: 45 * MINUTE });
  });
});

describe('trends', () => {
  let r: TrendsReport;
  beforeAll(async () => {
    r = await buildReport(live, 'trends', RANGE, { ...opts, horizonMs: 2 * HOUR });
  });
  const entry = (subject: string, metric: string) => [...r.endpoints, ...r.clusters].find((t) => t.subject === subject && t.metric === metric)!;

  it('validates against the JSON schema', () => {
    expect(() => reportSchemas.trends.parse(JSON.parse(JSON.stringify(r)))).not.toThrow();
    expect(r.horizonMs).toBe(2 * HOUR);
    expect(r.thresholds).toEqual({ score: 70, latencyMs: null, errorRate: 0.5, cpuPercent: 90, memoryPercent: 90, diskPercent: 95 });
  });

  it('memory climbing 4 %/h from 84% reaches 90% in about 1.5 h', () => {
    const mem = entry(ENDPOINTS.steady.key, 'memoryPercent');
    expect(mem.direction).toBe('degrading');
    expect(mem.slopePerHour).toBeCloseTo(4, 0);
    expect(mem.confidence).toBeGreaterThan(0.9);
    expect(mem.timeToThresholdMs! / HOUR).toBeGreaterThan(1.2);
    expect(mem.timeToThresholdMs! / HOUR).toBeLessThan(1.8);
    expect(mem.sentence).toMatch(/^memory reaches 90% in ~(2 h|\d+ min)$/);
    expect(mem.prediction!.at).toBe(mem.fit!.to + 2 * HOUR);
    expect(mem.prediction!.low).toBeLessThanOrEqual(mem.prediction!.value);
    expect(mem.prediction!.high).toBeGreaterThanOrEqual(mem.prediction!.value);
  });

  it('error rate, a flat metric, an unhealthy now, insufficient data', () => {
    expect(entry(ENDPOINTS.errors.key, 'errorRate').sentence).toBe('error rate reaches 50% in ~4 h');
    expect(entry(ENDPOINTS.steady.key, 'diskPercent')).toMatchObject({ direction: 'stable', sentence: null });
    expect(entry(ENDPOINTS.flappy.key, 'score').sentence).toBe('score is below 70 now (0)');
    expect(entry(ENDPOINTS.lonely.key, 'score')).toMatchObject({ direction: 'insufficient-data', prediction: null, fit: null, n: 1 });
  });

  it('anomalies: the sick endpoint latency spike', () => {
    const lat = entry('web', 'latencyMs');
    expect(lat.scope).toBe('cluster');
    expect(lat.series!.length).toBeGreaterThan(100);
    const anomalies = entry(ENDPOINTS.sick.key, 'latencyMs').anomalies;
    expect(anomalies.length).toBeGreaterThan(0);
    expect(anomalies.length).toBeLessThanOrEqual(5);
    for (const a of anomalies) expect(a.t).toBeGreaterThanOrEqual(T0 + 2 * HOUR - MINUTE * 2);
  });

  it('cluster roll-ups', () => {
    expect(r.clusters.filter((t) => t.subject === 'web').map((t) => t.metric)).toEqual(['score', 'latencyMs', 'cpuPercent', 'memoryPercent', 'diskPercent']);
    expect(entry('web', 'memoryPercent').direction).toBe('degrading');
  });
});
