/**
 * Reports from the store's 5-minute roll-ups (the path long ranges take) against the same reports
 * from every point: the figures facts.ts promises to keep are equal, the approximations stay sane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, type ReportSource } from '../../src/reports/build.js';
import type { DetailedReport, MetricsReport, SummaryReport, TrendsReport } from '../../src/reports/model.js';
import { reportSchemas } from '../../src/reports/schema.js';
import type { Store } from '../../src/store/index.js';
import { RANGE, MINUTE, seededPoints, seededStore } from '../support/report-fixtures.js';

const NOW = RANGE.to + MINUTE;
let store: Store;
let source: ReportSource;
const raw = { now: () => NOW, rollups: 'never' as const, buckets: 72 };
const rolled = { now: () => NOW, rollups: 'always' as const, buckets: 72 };

beforeAll(() => {
  store = seededStore();
  source = { store };
});
afterAll(() => store.close());

describe('reports from roll-ups', () => {
  it('the store keeps one window per endpoint per 5 minutes, complete from its first write', () => {
    const windows = [...store.rollups({ from: RANGE.from, to: RANGE.to })];
    expect(store.rollupsFrom()).toBeLessThanOrEqual(RANGE.from);
    expect(windows.reduce((s, w) => s + w.n, 0)).toBe(seededPoints().length);
    expect(windows.every((w) => w.bucket % 300_000 === 0 && w.firstAt >= w.bucket && w.lastAt < w.bucket + 300_000)).toBe(true);
    const keys = windows.map((w) => `${w.key}@${w.bucket}`);
    expect(keys).toEqual([...keys].sort());
  });

  it('summary: samples, covered and healthy time, incidents are the same as from points', async () => {
    const a = await buildReport(source, 'summary', RANGE, raw);
    const b = await buildReport(source, 'summary', RANGE, rolled);
    expect(() => reportSchemas.summary.parse(JSON.parse(JSON.stringify(b)))).not.toThrow();
    const pick = (r: SummaryReport) =>
      r.endpoints.map((e) => ({ key: e.key, samples: e.samples, coveredMs: e.coveredMs, healthyMs: e.healthyMs, incidents: e.incidents, current: e.current }));
    expect(pick(b)).toEqual(pick(a));
    expect(b.totals).toEqual(a.totals);
    expect(b.meta.points).toBe(a.meta.points);
  });

  it('detailed: time in status and health, circuit trips and reasons are the same; stats close', async () => {
    const a = await buildReport(source, 'detailed', RANGE, raw);
    const b: DetailedReport = await buildReport(source, 'detailed', RANGE, rolled);
    expect(() => reportSchemas.detailed.parse(JSON.parse(JSON.stringify(b)))).not.toThrow();
    for (const e of a.endpoints) {
      const f = b.endpoints.find((x) => x.key === e.key)!;
      expect(f).toMatchObject({
        timeInStatus: e.timeInStatus,
        timeInHealth: e.timeInHealth,
        circuitTrips: e.circuitTrips,
        lastCircuit: e.lastCircuit,
        otherReasons: e.otherReasons,
      });
      expect(f.reasons).toEqual(e.reasons);
      for (const [m, s] of Object.entries(e.stats)) {
        const t = f.stats[m as keyof typeof f.stats];
        if (s === null) {
          expect(t).toBeNull();
          continue;
        }
        expect(t).toMatchObject({ n: s.n, min: s.min, max: s.max });
        expect(t!.mean).toBeCloseTo(s.mean, 3);
        // p95 from window means: between the mean and the max.
        expect(t!.p95).toBeGreaterThanOrEqual(s.min);
        expect(t!.p95).toBeLessThanOrEqual(s.max);
      }
      for (const series of Object.values(f.series)) expect(series.length).toBeLessThanOrEqual(120);
    }
  });

  it('metrics and trends: bucketed series are the same as from points', async () => {
    const a: MetricsReport = await buildReport(source, 'metrics', RANGE, raw);
    const b: MetricsReport = await buildReport(source, 'metrics', RANGE, rolled);
    expect(b.bucketMs).toBe(a.bucketMs);
    expect(b.clusters.map((c) => c.name)).toEqual(a.clusters.map((c) => c.name));
    for (const c of a.clusters) {
      const d = b.clusters.find((x) => x.name === c.name)!;
      for (const [m, series] of Object.entries(c.series)) {
        const other = d.series[m as keyof typeof d.series];
        expect(other.map((p) => p.t)).toEqual(series.map((p) => p.t));
        other.forEach((p, i) => expect(p.v).toBeCloseTo(series[i]!.v, 3));
      }
    }
    const ta: TrendsReport = await buildReport(source, 'trends', RANGE, raw);
    const tb: TrendsReport = await buildReport(source, 'trends', RANGE, rolled);
    const pick = (r: TrendsReport) => [...r.endpoints, ...r.clusters].map((t) => ({ s: t.subject, m: t.metric, d: t.direction, n: t.n, sentence: t.sentence }));
    expect(pick(tb)).toEqual(pick(ta));
  });

  it('a range that is not aligned to windows reads its edges from points', async () => {
    const q = { from: RANGE.from + 7 * MINUTE + 13_000, to: RANGE.to - 11 * MINUTE - 1 };
    const a = await buildReport(source, 'summary', q, raw);
    const b = await buildReport(source, 'summary', q, rolled);
    expect(b.endpoints.map((e) => [e.key, e.samples, e.coveredMs, e.healthyMs, e.incidents])).toEqual(
      a.endpoints.map((e) => [e.key, e.samples, e.coveredMs, e.healthyMs, e.incidents]),
    );
  });

  it('auto: a small range reads points', async () => {
    const r = await buildReport(source, 'metrics', RANGE, { now: () => NOW });
    expect(r.bucketMs).toBe(120_000);
  });
});

describe('roll-ups in the store', () => {
  it('a restart continues the open window: the same windows as one session', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openSqliteStore } = await import('../../src/store/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'healthmesh-rollups-'));
    try {
      const points = seededPoints().sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : 1));
      const half = Math.floor(points.length / 2) + 3; // mid-window
      const one = openSqliteStore(join(dir, 'one.db'));
      one.appendHistory(points);
      const two = openSqliteStore(join(dir, 'two.db'));
      two.appendHistory(points.slice(0, half));
      two.close();
      const again = openSqliteStore(join(dir, 'two.db'));
      again.appendHistory(points.slice(half));
      const all = (s: Store) => [...s.rollups({ from: RANGE.from, to: RANGE.to + 1 })];
      expect(all(again)).toEqual(all(one));
      // A crash (no close: the open windows were never written) is repaired from the history.
      const crashed = openSqliteStore(join(dir, 'three.db'));
      crashed.appendHistory(points.slice(0, half));
      const after = openSqliteStore(join(dir, 'three.db'));
      after.appendHistory(points.slice(half));
      after.close();
      const reopened = openSqliteStore(join(dir, 'three.db'));
      expect(all(reopened)).toEqual(all(one));
      reopened.close();
      // Retention drops windows with the history they summarise.
      again.cleanup(RANGE.from + 3 * 3_600_000, { historyMs: 3_600_000, fullResolutionMs: 3_600_000, alertsMs: 3_600_000 });
      expect(all(again).every((w) => w.bucket >= RANGE.from + 2 * 3_600_000)).toBe(true);
      expect(all(again).length).toBeGreaterThan(0);
      one.close();
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
