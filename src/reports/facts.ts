/**
 * What the report builder knows about one endpoint over the range, from either source:
 *
 * - `factsFromPoints`: every history point (exact; used for short ranges and small stores).
 * - `factsFromWindows`: 5-minute roll-up windows (src/store/rollup.ts) for the middle of a long
 *   range, with the first and last windows built here from raw points so that the range's edges are
 *   exact (the first point in range, the last one holding until `to`).
 *
 * From windows, every figure is the same as from points except:
 * - p95: the nearest-rank 95th percentile of the values with each value replaced by its window's
 *   mean (a window of 30 points counts 30 times); min, max and mean stay exact;
 * - chart series (detailed): equal-count groups of window means instead of points;
 * - the gap cap inside stored windows is the one the writer used (3 × the median of the endpoint's
 *   recent spacing, at least 30 s) instead of 3 × the median spacing over the whole range.
 * Bucketed series (metrics, trends) are exact: a bucket mean is Σ sum / Σ n of its windows.
 */
import type { CircuitState, Status } from '../core/model.js';
import { downsample, rollUp } from '../core/trend.js';
import type { HistoryPoint, PublishedHealth } from '../operations.js';
import { emptyRollup, MIN_GAP_CAP_MS, ROLLUP_MS, rollupBucket, type Rollup } from '../store/rollup.js';
import { METRICS, type MetricName, type Point, type Stats } from './model.js';
import { medianSpacing, summarize } from './stats.js';

/** Distinct reasons tracked per endpoint before the rest are only counted. */
const MAX_DISTINCT_REASONS = 500;

export interface LastPoint {
  at: number;
  status: Status;
  health: PublishedHealth;
  circuit: CircuitState;
  score: number;
  weight: number;
  reasons?: string[] | undefined;
}

export interface EndpointFacts {
  key: string;
  cluster: string;
  samples: number;
  coveredMs: number;
  healthyMs: number;
  incidents: number;
  timeInStatus: Record<Status, number>;
  timeInHealth: Record<PublishedHealth, number>;
  circuitTrips: number;
  lastCircuit: CircuitState | null;
  last: LastPoint | undefined;
  reasons: Map<string, { count: number; firstAt: number; lastAt: number }>;
  otherReasons: number;
  /** min / mean / p95 / max per metric (unrounded). */
  stats(): Record<MetricName, Stats | null>;
  /** Mean per bucket (floor(t / bucketMs)), at the bucket's start, per metric. */
  bucketSeries(bucketMs: number): Record<MetricName, Point[]>;
  /** At most `n` points per metric for charts. */
  chartSeries(n: number): Record<MetricName, Point[]>;
}

export interface FactsOptions {
  maxGapMs?: number | undefined;
  reasons: boolean;
}

const zeroStatus = (): Record<Status, number> => ({ HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0 });
const zeroHealth = (): Record<PublishedHealth, number> => ({ HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, DRAINING: 0 });
const perMetric = <T>(make: (m: MetricName) => T): Record<MetricName, T> => Object.fromEntries(METRICS.map((m) => [m, make(m)])) as Record<MetricName, T>;

function metricValue(p: HistoryPoint, m: MetricName): number | undefined {
  return m === 'score' ? p.score : p[m];
}

function addReason(reasons: EndpointFacts['reasons'], reason: string, count: number, firstAt: number, lastAt: number): boolean {
  const seen = reasons.get(reason);
  if (seen) {
    seen.count += count;
    seen.firstAt = Math.min(seen.firstAt, firstAt);
    seen.lastAt = Math.max(seen.lastAt, lastAt);
    return true;
  }
  if (reasons.size >= MAX_DISTINCT_REASONS) return false;
  reasons.set(reason, { count, firstAt, lastAt });
  return true;
}

const lastOf = (p: HistoryPoint): LastPoint => ({
  at: p.at,
  status: p.status,
  health: p.health,
  circuit: p.circuit,
  score: p.score,
  weight: p.weight,
  reasons: p.reasons,
});

/** One pass over an endpoint's points (time order); each holds until the next one, the last until `to`. */
export function factsFromPoints(points: readonly HistoryPoint[], to: number, opts: FactsOptions): EndpointFacts {
  const first = points[0]!;
  const cap = opts.maxGapMs ?? Math.max(MIN_GAP_CAP_MS, 3 * medianSpacing(points.map((p) => p.at)));
  const metrics = perMetric<Point[]>(() => []);
  const f: EndpointFacts = {
    key: first.key,
    cluster: first.cluster,
    samples: points.length,
    coveredMs: 0,
    healthyMs: 0,
    incidents: 0,
    timeInStatus: zeroStatus(),
    timeInHealth: zeroHealth(),
    circuitTrips: 0,
    lastCircuit: null,
    last: lastOf(points[points.length - 1]!),
    reasons: new Map(),
    otherReasons: 0,
    stats: () => perMetric((m) => summarize(metrics[m].map((p) => p.v))),
    bucketSeries: (bucketMs) => perMetric((m) => (metrics[m].length ? rollUp([metrics[m]], bucketMs, 'mean') : [])),
    chartSeries: (n) => perMetric((m) => downsample(metrics[m], n)),
  };
  let prev: HistoryPoint | undefined;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const next = points[i + 1]?.at ?? to;
    const held = Math.min(Math.max(0, next - p.at), cap);
    f.coveredMs += held;
    f.timeInStatus[p.status] += held;
    f.timeInHealth[p.health] += held;
    if (p.status === 'HEALTHY') f.healthyMs += held;
    if (p.status === 'UNHEALTHY' && prev?.status !== 'UNHEALTHY') f.incidents++;
    if (p.circuit === 'open' && prev !== undefined && prev.circuit !== 'open') f.circuitTrips++;
    if (opts.reasons && p.reasons) for (const r of p.reasons) if (!addReason(f.reasons, r, 1, p.at, p.at)) f.otherReasons++;
    for (const m of METRICS) {
      const v = metricValue(p, m);
      if (v !== undefined && Number.isFinite(v)) metrics[m].push({ t: p.at, v });
    }
    prev = p;
  }
  f.lastCircuit = prev?.circuit ?? null;
  return f;
}

/** Windows (as the store keeps them) from raw points; held time up to `nextAt` for the last point, capped. */
export function windowsFromPoints(points: readonly HistoryPoint[], nextAt: number, cap: number, prev: LastPoint | undefined): Rollup[] {
  const out: Rollup[] = [];
  let before = prev;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const bucket = rollupBucket(p.at);
    let w = out[out.length - 1];
    if (!w || w.bucket !== bucket) {
      w = emptyRollup(p, bucket);
      out.push(w);
    }
    const next = points[i + 1]?.at ?? nextAt;
    const gap = Math.max(0, next - p.at);
    const held = Math.min(gap, cap);
    w.heldStatus[p.status] += held;
    w.heldHealth[p.health] += held;
    if (points[i + 1]) {
      w.gapN++;
      w.gapSum += gap;
    }
    if (p.status === 'UNHEALTHY' && before?.status !== 'UNHEALTHY') w.incidents++;
    if (p.circuit === 'open' && before !== undefined && before.circuit !== 'open') w.trips++;
    w.n++;
    w.lastAt = p.at;
    w.lastStatus = p.status;
    w.lastHealth = p.health;
    w.lastCircuit = p.circuit;
    w.lastScore = p.score;
    w.lastWeight = p.weight;
    w.lastReasons = p.reasons;
    for (const r of p.reasons ?? []) {
      const seen = w.reasons[r];
      if (seen) {
        seen[0]++;
        seen[2] = p.at;
      } else w.reasons[r] = [1, p.at, p.at];
    }
    for (const m of METRICS) {
      const v = metricValue(p, m);
      if (v === undefined || !Number.isFinite(v)) continue;
      const a = w.metrics[m];
      if (a) {
        a.n++;
        a.sum += v;
        a.min = Math.min(a.min, v);
        a.max = Math.max(a.max, v);
      } else w.metrics[m] = { n: 1, sum: v, min: v, max: v };
    }
    before = lastOf(p);
  }
  return out;
}

/** Median spacing of an endpoint's stored windows (the median of their mean gaps), for the edges' cap. */
export function windowSpacing(windows: readonly Rollup[]): number {
  const gaps = windows.filter((w) => w.gapN > 0).map((w) => w.gapSum / w.gapN);
  gaps.sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor((gaps.length - 1) / 2)]! : 0;
}

/** Facts from windows in time order (stored ones and those built from the edges' points). */
export function factsFromWindows(windows: readonly Rollup[], opts: FactsOptions): EndpointFacts {
  const first = windows[0]!;
  const lastW = windows[windows.length - 1]!;
  const f: EndpointFacts = {
    key: first.key,
    cluster: first.cluster,
    samples: 0,
    coveredMs: 0,
    healthyMs: 0,
    incidents: 0,
    timeInStatus: zeroStatus(),
    timeInHealth: zeroHealth(),
    circuitTrips: 0,
    lastCircuit: lastW.lastCircuit,
    last: {
      at: lastW.lastAt,
      status: lastW.lastStatus,
      health: lastW.lastHealth,
      circuit: lastW.lastCircuit,
      score: lastW.lastScore,
      weight: lastW.lastWeight,
      reasons: lastW.lastReasons,
    },
    reasons: new Map(),
    otherReasons: 0,
    stats: () => perMetric((m) => windowStats(windows, m)),
    bucketSeries: (bucketMs) => perMetric((m) => bucketMeans(windows, m, bucketMs)),
    chartSeries: (n) =>
      perMetric((m) =>
        downsample(
          windows.flatMap((w) => {
            const a = w.metrics[m];
            return a ? [{ t: (w.firstAt + w.lastAt) / 2, v: a.sum / a.n }] : [];
          }),
          n,
        ),
      ),
  };
  for (const w of windows) {
    f.samples += w.n;
    for (const s of ['HEALTHY', 'DEGRADED', 'UNHEALTHY'] as const) {
      f.timeInStatus[s] += w.heldStatus[s];
      f.coveredMs += w.heldStatus[s];
    }
    for (const h of ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'DRAINING'] as const) f.timeInHealth[h] += w.heldHealth[h];
    f.healthyMs += w.heldStatus.HEALTHY;
    f.incidents += w.incidents;
    f.circuitTrips += w.trips;
    if (opts.reasons) {
      for (const [r, [count, firstAt, lastAt]] of Object.entries(w.reasons)) if (!addReason(f.reasons, r, count, firstAt, lastAt)) f.otherReasons += count;
      f.otherReasons += w.otherReasons;
    }
  }
  return f;
}

function windowStats(windows: readonly Rollup[], m: MetricName): Stats | null {
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  const means: Array<{ v: number; n: number }> = [];
  for (const w of windows) {
    const a = w.metrics[m];
    if (!a) continue;
    n += a.n;
    sum += a.sum;
    min = Math.min(min, a.min);
    max = Math.max(max, a.max);
    means.push({ v: a.sum / a.n, n: a.n });
  }
  if (n === 0) return null;
  means.sort((a, b) => a.v - b.v);
  const rank = Math.max(1, Math.ceil(0.95 * n));
  let seen = 0;
  let p95 = max;
  for (const x of means) {
    seen += x.n;
    if (seen >= rank) {
      p95 = x.v;
      break;
    }
  }
  return { n, min, mean: sum / n, p95: Math.min(max, Math.max(min, p95)), max };
}

function bucketMeans(windows: readonly Rollup[], m: MetricName, bucketMs: number): Point[] {
  const out: Point[] = [];
  let cur: { t: number; sum: number; n: number } | undefined;
  for (const w of windows) {
    const a = w.metrics[m];
    if (!a) continue;
    const t = Math.floor(w.bucket / bucketMs) * bucketMs;
    if (!cur || cur.t !== t) {
      if (cur) out.push({ t: cur.t, v: cur.sum / cur.n });
      cur = { t, sum: 0, n: 0 };
    }
    cur.sum += a.sum;
    cur.n += a.n;
  }
  if (cur) out.push({ t: cur.t, v: cur.sum / cur.n });
  return out;
}

/** Whether bucketed series can come from windows: buckets must be whole windows. */
export const windowsFitBuckets = (bucketMs: number): boolean => bucketMs % ROLLUP_MS === 0;
