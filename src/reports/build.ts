/**
 * Builds reports from the store (history, alerts) and, when live, the operations facade (current
 * state). One pass over `store.historyRange()`, which yields points ordered by key then time: each
 * endpoint's points are gathered, reduced to what the report needs and dropped before the next
 * endpoint, so memory is bounded by one endpoint's points plus the (small) per-endpoint results.
 *
 * The builder yields to the event loop every `yieldEvery` points, so a large report does not stall
 * the process (the store pages its reads and holds no cursor between them), and stops early when
 * `signal` aborts (e.g. the HTTP client went away).
 *
 * Availability is time-weighted: each point holds until the next one (the last until the end of the
 * range), capped at a gap limit so that an outage of the control plane itself counts as "no data",
 * not as whatever was recorded last. Availability = time HEALTHY ÷ time covered.
 */
import { setImmediate as tick } from 'node:timers/promises';
import type { Status } from '../core/model.js';
import { analyzeTrend, type Trend } from '../core/trend.js';
import type { AlertRecord, EndpointSnapshot, HistoryPoint, Operations, PublishedHealth } from '../operations.js';
import { ROLLUP_MS, type Rollup } from '../store/rollup.js';
import type { Store } from '../store/types.js';
import { factsFromPoints, factsFromWindows, windowsFromPoints, windowSpacing, type EndpointFacts, type LastPoint } from './facts.js';
import { formatDuration, formatMetric, metricLabel } from './format.js';
import {
  ALERT_LEVELS,
  METRIC_INFO,
  METRICS,
  REPORT_SCHEMA_VERSION,
  type AlertCounts,
  type AlertEntry,
  type AlertGroup,
  type AlertsReport,
  type ClusterMetrics,
  type ClusterSummary,
  type CurrentState,
  type DetailedReport,
  type EndpointDetail,
  type EndpointMetrics,
  type EndpointSummary,
  type MetricName,
  type MetricsReport,
  type Point,
  type ReasonSeen,
  type Report,
  type ReportMeta,
  type ReportOf,
  type ReportQuery,
  type ReportType,
  type Stats,
  type SummaryReport,
  type TrendEntry,
  type TrendsReport,
} from './model.js';
import { HOUR_MS, validateQuery } from './query.js';
import { BucketMean, medianSpacing, niceBucket, round, summarize } from './stats.js';

/** Above this many history points in range, the middle of the range is read from roll-ups. */
export const ROLLUP_MIN_POINTS = 200_000;

/** What reports are built from. Without `ops` (offline, from a store file) "current" is the last recorded point. */
export interface ReportSource {
  store: Pick<Store, 'historyRange' | 'historyKeys' | 'alerts'> & Partial<Pick<Store, 'rollups' | 'rollupsFrom' | 'historyCount'>>;
  ops?: Pick<Operations, 'clusters' | 'endpoints'> | undefined;
}

export interface BuildOptions {
  /** Wall clock (generatedAt, duration of still-firing alerts). */
  now?: (() => number) | undefined;
  /** Longest time one point is taken to hold; default max(30 s, 3 × the endpoint's median sample spacing). */
  maxGapMs?: number | undefined;
  /** Points per chart series (detailed). Default 120. */
  seriesPoints?: number | undefined;
  /** Buckets per cluster series (metrics) and per trend series. Default 288 (5 min over 24 h). */
  buckets?: number | undefined;
  /** Reasons kept per endpoint (detailed). Default 10. */
  maxReasons?: number | undefined;
  /** How far ahead trends predict. Default 6 h. */
  horizonMs?: number | undefined;
  /** Thresholds for time-to-threshold sentences (null: none). Defaults: score 70, error rate 0.5, CPU 90, memory 90, disk 95. */
  thresholds?: Partial<Record<MetricName, number | null>> | undefined;
  /** Anomalies kept per trend entry (largest |z| first). Default 5. */
  maxAnomalies?: number | undefined;
  /**
   * Read the middle of the range from the store's 5-minute roll-ups (see facts.ts for what changes):
   * `auto` (default) when the range holds at least ROLLUP_MIN_POINTS points and the roll-ups cover it.
   */
  rollups?: 'auto' | 'always' | 'never' | undefined;
  /** History points between yields to the event loop. Default 5000. */
  yieldEvery?: number | undefined;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_THRESHOLDS: Readonly<Record<MetricName, number | null>> = {
  score: 70,
  latencyMs: null,
  errorRate: 0.5,
  cpuPercent: 90,
  memoryPercent: 90,
  diskPercent: 95,
};

const TITLES: Record<ReportType, string> = {
  summary: 'Health summary',
  detailed: 'Detailed endpoint report',
  metrics: 'Metrics report',
  alerts: 'Alerts report',
  trends: 'Trends report',
};

const MIN_GAP_CAP_MS = 30_000;
/** Crossings further away than this are not worth a sentence (the table still has the time). */
const MAX_SENTENCE_MS = 7 * 24 * HOUR_MS;

const clusterOfKey = (key: string): string => key.slice(0, Math.max(0, key.indexOf('/')));

/** Clusters a report may name: the live ones, and every one with history (a removed cluster still has a past). */
export function knownClusters(source: ReportSource, range?: { from: number; to: number }): string[] {
  const names = new Set<string>(source.ops?.clusters().map((c) => c.name) ?? []);
  for (const key of source.store.historyKeys({ from: range?.from ?? 0, to: range?.to ?? 8.64e15 })) names.add(clusterOfKey(key));
  return [...names].filter(Boolean).sort();
}

/** Validates the query (InvalidArgumentError naming the field) and builds the report. */
export async function buildReport<T extends ReportType>(source: ReportSource, type: T, query: ReportQuery, opts: BuildOptions = {}): Promise<ReportOf<T>> {
  const q = validateQuery(query, () => knownClusters(source, query.to > query.from ? query : undefined));
  const ctx = new Context(source, type, q, opts);
  let report: Report;
  switch (type) {
    case 'summary':
      report = await buildSummary(ctx);
      break;
    case 'detailed':
      report = await buildDetailed(ctx);
      break;
    case 'metrics':
      report = await buildMetrics(ctx);
      break;
    case 'alerts':
      report = buildAlerts(ctx);
      break;
    case 'trends':
      report = await buildTrends(ctx);
      break;
    default:
      throw new Error(`unknown report type ${String(type)}`);
  }
  return report as ReportOf<T>;
}

class Context {
  readonly now: number;
  points = 0;
  readonly live: Map<string, EndpointSnapshot> | undefined;
  private readonly thresholds: Record<MetricName, number | null>;

  constructor(
    readonly source: ReportSource,
    readonly type: ReportType,
    readonly q: ReportQuery,
    readonly opts: BuildOptions,
  ) {
    this.now = (opts.now ?? Date.now)();
    this.live = source.ops ? new Map(source.ops.endpoints(q.cluster === undefined ? undefined : { cluster: q.cluster }).map((e) => [e.key, e])) : undefined;
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  }

  threshold(metric: MetricName): number | null {
    return this.thresholds[metric] ?? null;
  }

  thresholdsRecord(): Record<MetricName, number | null> {
    return { ...this.thresholds };
  }

  meta<T extends ReportType>(type: T): ReportMeta & { type: T } {
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      type,
      title: TITLES[type],
      generatedAt: this.now,
      from: this.q.from,
      to: this.q.to,
      cluster: this.q.cluster ?? null,
      source: this.source.ops ? 'live' : 'store',
      points: this.points,
    };
  }

  /** The part of the range read from roll-ups, or undefined to read every point. */
  get rollupRange(): { from: number; to: number } | undefined {
    if (this.plan === null) this.plan = this.planRollups();
    return this.plan;
  }

  private plan: { from: number; to: number } | undefined | null = null;

  private planRollups(): { from: number; to: number } | undefined {
    const store = this.source.store;
    const mode = this.opts.rollups ?? 'auto';
    if (mode === 'never' || !store.rollups || !store.rollupsFrom) return undefined;
    // The first and last windows always come from points: the range's edges stay exact.
    const from = Math.floor(this.q.from / ROLLUP_MS) * ROLLUP_MS + ROLLUP_MS;
    const to = Math.ceil(this.q.to / ROLLUP_MS) * ROLLUP_MS - ROLLUP_MS;
    if (to <= from || store.rollupsFrom() > from) return undefined;
    if (mode === 'auto' && (store.historyCount?.(this.q, ROLLUP_MIN_POINTS) ?? 0) < ROLLUP_MIN_POINTS) return undefined;
    return { from, to };
  }

  /** Bucket size of bucketed series: whole roll-up windows when they are read. */
  bucketMs(): number {
    const nice = niceBucket(this.q.to - this.q.from, this.opts.buckets ?? 288);
    return this.rollupRange ? Math.max(nice, ROLLUP_MS) : nice;
  }

  /** Calls `each` with every endpoint's facts (key order), yielding to the event loop as it goes. */
  async scan(each: (facts: EndpointFacts) => void, reasons: boolean): Promise<void> {
    const r = this.rollupRange;
    if (r) await this.scanWindows(each, reasons, r);
    else await this.scanPoints(each, reasons);
  }

  private async pause(): Promise<void> {
    await tick();
    this.opts.signal?.throwIfAborted();
  }

  private async scanPoints(each: (facts: EndpointFacts) => void, reasons: boolean): Promise<void> {
    const every = Math.max(1, this.opts.yieldEvery ?? 5000);
    const opts = { maxGapMs: this.opts.maxGapMs, reasons };
    let batch: HistoryPoint[] = [];
    let sinceYield = 0;
    const it = this.source.store.historyRange({ from: this.q.from, to: this.q.to, cluster: this.q.cluster });
    try {
      for (;;) {
        const r = it.next();
        if (r.done) break;
        const p = r.value;
        if (batch.length > 0 && batch[0]!.key !== p.key) {
          each(factsFromPoints(batch, this.q.to, opts));
          batch = [];
        }
        batch.push(p);
        this.points++;
        if (++sinceYield >= every) {
          sinceYield = 0;
          await this.pause();
        }
      }
      if (batch.length > 0) each(factsFromPoints(batch, this.q.to, opts));
    } finally {
      it.return?.();
    }
  }

  /** Points at the range's edges, roll-up windows in between, merged per endpoint. */
  private async scanWindows(each: (facts: EndpointFacts) => void, reasons: boolean, r: { from: number; to: number }): Promise<void> {
    const store = this.source.store;
    const cluster = this.q.cluster;
    const byKey = (from: number, to: number): Map<string, HistoryPoint[]> => {
      const out = new Map<string, HistoryPoint[]>();
      for (const p of store.historyRange({ from, to, cluster })) {
        const list = out.get(p.key);
        if (list) list.push(p);
        else out.set(p.key, [p]);
      }
      return out;
    };
    const head = byKey(this.q.from, r.from - 1);
    const tail = byKey(r.to, this.q.to);
    const keys = store.historyKeys({ from: this.q.from, to: this.q.to, cluster });
    const every = Math.max(1, Math.ceil((this.opts.yieldEvery ?? 5000) / 100));
    const it = store.rollups!({ from: r.from, to: r.to, cluster }, { reasons });
    let next = it.next();
    try {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const windows: Rollup[] = [];
        while (!next.done && next.value.key <= key) {
          if (next.value.key === key) windows.push(next.value);
          next = it.next();
        }
        const headPoints = head.get(key) ?? [];
        const tailPoints = tail.get(key) ?? [];
        const spacing = windowSpacing(windows) || medianSpacing([...headPoints, ...tailPoints].map((p) => p.at));
        const cap = this.opts.maxGapMs ?? Math.max(MIN_GAP_CAP_MS, 3 * spacing);
        let lastW = windows[windows.length - 1];
        if (lastW && lastW.gapN < lastW.n) {
          // The store has not seen a point after this window's last one yet: it holds until the next point in range or `to`.
          const held = Math.min(Math.max(0, (tailPoints[0]?.at ?? this.q.to) - lastW.lastAt), cap);
          lastW = {
            ...lastW,
            heldStatus: { ...lastW.heldStatus, [lastW.lastStatus]: lastW.heldStatus[lastW.lastStatus] + held },
            heldHealth: { ...lastW.heldHealth, [lastW.lastHealth]: lastW.heldHealth[lastW.lastHealth] + held },
          };
          windows[windows.length - 1] = lastW;
        }
        const headLast = headPoints[headPoints.length - 1];
        const beforeTail: LastPoint | undefined = lastW
          ? {
              at: lastW.lastAt,
              status: lastW.lastStatus,
              health: lastW.lastHealth,
              circuit: lastW.lastCircuit,
              score: lastW.lastScore,
              weight: lastW.lastWeight,
            }
          : headLast;
        const all = [
          ...windowsFromPoints(headPoints, windows[0]?.firstAt ?? tailPoints[0]?.at ?? this.q.to, cap, undefined),
          ...windows,
          ...windowsFromPoints(tailPoints, this.q.to, cap, beforeTail),
        ];
        if (all.length === 0) continue;
        const f = factsFromWindows(all, { reasons });
        this.points += f.samples;
        each(f);
        if ((i + 1) % every === 0) await this.pause();
      }
    } finally {
      it.return?.();
    }
  }

  currentOf(key: string, last: LastPoint | undefined): CurrentState | null {
    if (this.live) {
      const e = this.live.get(key);
      return e ? { status: e.status, health: e.health, score: e.score, weight: e.weight, reasons: [...e.reasons], at: this.now } : null;
    }
    return last ? { status: last.status, health: last.health, score: last.score, weight: last.weight, reasons: [...(last.reasons ?? [])], at: last.at } : null;
  }

  /** Endpoints known live but without history in range (they still belong in the report). */
  liveOnly(seen: ReadonlySet<string>): EndpointSnapshot[] {
    return this.live ? [...this.live.values()].filter((e) => !seen.has(e.key)).sort((a, b) => a.key.localeCompare(b.key)) : [];
  }

  alerts(): AlertRecord[] {
    const all = this.source.store.alerts({ from: this.q.from, to: this.q.to });
    return this.q.cluster === undefined ? all : all.filter((a) => a.cluster === this.q.cluster);
  }
}

const zeroStatus = (): Record<Status, number> => ({ HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0 });
const zeroHealth = (): Record<PublishedHealth, number> => ({ HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, DRAINING: 0 });
const emptyMetrics = <T>(make: () => T): Record<MetricName, T> => Object.fromEntries(METRICS.map((m) => [m, make()])) as Record<MetricName, T>;

const availability = (healthyMs: number, coveredMs: number): number | null => (coveredMs > 0 ? round((100 * healthyMs) / coveredMs, 4) : null);

function endpointSummary(ctx: Context, f: EndpointFacts): EndpointSummary {
  return {
    key: f.key,
    cluster: f.cluster,
    samples: f.samples,
    coveredMs: f.coveredMs,
    healthyMs: f.healthyMs,
    availabilityPercent: availability(f.healthyMs, f.coveredMs),
    incidents: f.incidents,
    current: ctx.currentOf(f.key, f.last),
  };
}

function emptyEndpointSummary(ctx: Context, e: EndpointSnapshot): EndpointSummary {
  return {
    key: e.key,
    cluster: e.cluster,
    samples: 0,
    coveredMs: 0,
    healthyMs: 0,
    availabilityPercent: null,
    incidents: 0,
    current: ctx.currentOf(e.key, undefined),
  };
}

/** Per-cluster totals over its endpoints, plus the live cluster view when there is one. */
function clusterSummaries(ctx: Context, endpoints: readonly EndpointSummary[]): ClusterSummary[] {
  const live = new Map((ctx.source.ops?.clusters() ?? []).map((c) => [c.name, c]));
  const names = new Set<string>(endpoints.map((e) => e.cluster));
  for (const name of live.keys()) if (ctx.q.cluster === undefined || name === ctx.q.cluster) names.add(name);
  return [...names].sort().map((name) => {
    const mine = endpoints.filter((e) => e.cluster === name);
    const coveredMs = mine.reduce((s, e) => s + e.coveredMs, 0);
    const healthyMs = mine.reduce((s, e) => s + e.healthyMs, 0);
    const currentStatus = zeroStatus();
    for (const e of mine) if (e.current) currentStatus[e.current.status]++;
    const c = live.get(name);
    return {
      name,
      endpoints: mine.length,
      coveredMs,
      healthyMs,
      availabilityPercent: availability(healthyMs, coveredMs),
      incidents: mine.reduce((s, e) => s + e.incidents, 0),
      current: c
        ? { total: c.total, healthy: c.healthy, failing: c.failing, ejected: c.ejected, guarded: c.guarded, allFailing: c.allFailing, reason: c.reason ?? null }
        : null,
      currentStatus,
    };
  });
}

function alertCounts(alerts: readonly AlertRecord[]): AlertCounts {
  const byLevel = { info: 0, warning: 0, critical: 0 };
  for (const a of alerts) byLevel[a.level]++;
  return { total: alerts.length, firing: alerts.filter((a) => a.state === 'firing').length, byLevel };
}

async function buildSummary(ctx: Context): Promise<SummaryReport> {
  const endpoints: EndpointSummary[] = [];
  const seen = new Set<string>();
  await ctx.scan((f) => {
    seen.add(f.key);
    endpoints.push(endpointSummary(ctx, f));
  }, false);
  for (const e of ctx.liveOnly(seen)) endpoints.push(emptyEndpointSummary(ctx, e));
  endpoints.sort((a, b) => a.key.localeCompare(b.key));
  const clusters = clusterSummaries(ctx, endpoints);
  const coveredMs = endpoints.reduce((s, e) => s + e.coveredMs, 0);
  const healthyMs = endpoints.reduce((s, e) => s + e.healthyMs, 0);
  return {
    meta: ctx.meta('summary'),
    totals: {
      clusters: clusters.length,
      endpoints: endpoints.length,
      availabilityPercent: availability(healthyMs, coveredMs),
      incidents: endpoints.reduce((s, e) => s + e.incidents, 0),
    },
    clusters,
    endpoints,
    alerts: alertCounts(ctx.alerts()),
  };
}

const statsOf = (f: EndpointFacts): Record<MetricName, Stats | null> => {
  const stats = f.stats();
  return Object.fromEntries(METRICS.map((m) => [m, roundStats(stats[m])])) as Record<MetricName, Stats | null>;
};

const roundStats = (s: Stats | null): Stats | null =>
  s ? { n: s.n, min: round(s.min, 4), mean: round(s.mean, 4), p95: round(s.p95, 4), max: round(s.max, 4) } : null;

const noStats = (): Record<MetricName, Stats | null> => emptyMetrics<Stats | null>(() => null);

async function buildDetailed(ctx: Context): Promise<DetailedReport> {
  const seriesPoints = Math.max(2, ctx.opts.seriesPoints ?? 120);
  const maxReasons = Math.max(0, ctx.opts.maxReasons ?? 10);
  const endpoints: EndpointDetail[] = [];
  const seen = new Set<string>();
  await ctx.scan((f) => {
    seen.add(f.key);
    const reasons: ReasonSeen[] = [...f.reasons.entries()]
      .map(([reason, r]) => ({ reason, count: r.count, firstAt: r.firstAt, lastAt: r.lastAt }))
      .sort((a, b) => b.count - a.count || a.firstAt - b.firstAt || a.reason.localeCompare(b.reason));
    const kept = reasons.slice(0, maxReasons);
    const otherReasons = f.otherReasons + reasons.slice(maxReasons).reduce((s, r) => s + r.count, 0);
    endpoints.push({
      ...endpointSummary(ctx, f),
      stats: statsOf(f),
      timeInStatus: f.timeInStatus,
      timeInHealth: f.timeInHealth,
      circuitTrips: f.circuitTrips,
      lastCircuit: f.lastCircuit,
      reasons: kept,
      otherReasons,
      series: Object.fromEntries(Object.entries(f.chartSeries(seriesPoints)).map(([m, points]) => [m, roundSeries(points)])) as Record<MetricName, Point[]>,
    });
  }, true);
  for (const e of ctx.liveOnly(seen)) {
    endpoints.push({
      ...emptyEndpointSummary(ctx, e),
      stats: noStats(),
      timeInStatus: zeroStatus(),
      timeInHealth: zeroHealth(),
      circuitTrips: 0,
      lastCircuit: null,
      reasons: [],
      otherReasons: 0,
      series: emptyMetrics<Point[]>(() => []),
    });
  }
  endpoints.sort((a, b) => a.key.localeCompare(b.key));
  return { meta: ctx.meta('detailed'), clusters: clusterSummaries(ctx, endpoints), endpoints };
}

const roundSeries = (points: readonly Point[]): Point[] => points.map((p) => ({ t: p.t, v: round(p.v, 4) }));

class ClusterSeries {
  private readonly byCluster = new Map<string, { endpoints: number; series: Record<MetricName, BucketMean> }>();

  add(cluster: string, series: Record<MetricName, Point[]>): void {
    let c = this.byCluster.get(cluster);
    if (!c) {
      c = { endpoints: 0, series: emptyMetrics(() => new BucketMean()) };
      this.byCluster.set(cluster, c);
    }
    c.endpoints++;
    for (const m of METRICS) c.series[m].add(series[m]);
  }

  clusters(): Array<{ name: string; endpoints: number; series: Record<MetricName, Point[]> }> {
    return [...this.byCluster.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([name, c]) => ({
        name,
        endpoints: c.endpoints,
        series: Object.fromEntries(METRICS.map((m) => [m, c.series[m].points()])) as Record<MetricName, Point[]>,
      }));
  }
}

async function buildMetrics(ctx: Context): Promise<MetricsReport> {
  const bucketMs = ctx.bucketMs();
  const endpoints: EndpointMetrics[] = [];
  const clusters = new ClusterSeries();
  await ctx.scan((f) => {
    endpoints.push({ key: f.key, cluster: f.cluster, samples: f.samples, stats: statsOf(f) });
    clusters.add(f.cluster, f.bucketSeries(bucketMs));
  }, false);
  const clusterMetrics: ClusterMetrics[] = clusters.clusters().map((c) => ({
    name: c.name,
    endpoints: c.endpoints,
    series: Object.fromEntries(METRICS.map((m) => [m, roundSeries(c.series[m])])) as Record<MetricName, Point[]>,
    stats: Object.fromEntries(METRICS.map((m) => [m, roundStats(summarize(c.series[m].map((p) => p.v)))])) as Record<MetricName, Stats | null>,
  }));
  return { meta: ctx.meta('metrics'), bucketMs, clusters: clusterMetrics, endpoints };
}

function group(name: string, alerts: readonly AlertEntry[]): AlertGroup {
  const resolved = alerts.filter((a) => a.state === 'resolved');
  return {
    name,
    count: alerts.length,
    firing: alerts.length - resolved.length,
    resolved: resolved.length,
    mttrMs: resolved.length ? Math.round(resolved.reduce((s, a) => s + a.durationMs, 0) / resolved.length) : null,
    maxDurationMs: alerts.length ? Math.max(...alerts.map((a) => a.durationMs)) : null,
  };
}

function buildAlerts(ctx: Context): AlertsReport {
  const records = ctx.alerts();
  const end = Math.min(ctx.q.to, ctx.now);
  const alerts: AlertEntry[] = records.map((a) => ({
    id: a.id,
    rule: a.rule,
    level: a.level,
    subject: a.subject,
    cluster: a.cluster ?? null,
    message: a.message,
    state: a.state,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt ?? null,
    durationMs: Math.max(0, (a.state === 'resolved' ? (a.resolvedAt ?? a.lastSeenAt) : end) - a.firedAt),
    count: a.count,
    acknowledgedAt: a.acknowledgedAt ?? null,
    acknowledgedBy: a.acknowledgedBy ?? null,
  }));
  const byLevel = ALERT_LEVELS.map((level) =>
    group(
      level,
      alerts.filter((a) => a.level === level),
    ),
  );
  const rules = [...new Set(alerts.map((a) => a.rule))].sort();
  const byRule = rules
    .map((rule) =>
      group(
        rule,
        alerts.filter((a) => a.rule === rule),
      ),
    )
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const all = group('all', alerts);
  return {
    meta: ctx.meta('alerts'),
    totals: { ...alertCounts(records), resolved: all.resolved, mttrMs: all.mttrMs, acknowledged: alerts.filter((a) => a.acknowledgedAt !== null).length },
    byLevel,
    byRule,
    alerts,
  };
}

/**
 * "memory reaches 90% in ~3 h" (a degrading series crossing within 7 days), "score falls below 70 in
 * ~45 min", "CPU is above 90% now (93%)" (the last value is already past it); null otherwise.
 */
export function trendSentence(
  metric: MetricName,
  trend: Pick<Trend, 'timeToThresholdMs' | 'direction'>,
  threshold: number | null,
  last: number | null,
): string | null {
  if (threshold === null) return null;
  const { higherIsBetter } = METRIC_INFO[metric];
  const label = metricLabel(metric);
  const limit = formatMetric(metric, threshold);
  if (last !== null && (higherIsBetter ? last < threshold : last > threshold)) {
    return `${label} is ${higherIsBetter ? 'below' : 'above'} ${limit} now (${formatMetric(metric, last)})`;
  }
  // A crossing is foretold only for a series that is clearly heading there, and not years away.
  const ms = trend.timeToThresholdMs;
  if (trend.direction !== 'degrading' || ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_SENTENCE_MS) return null;
  if (ms === 0) return `${label} is at ${limit} by its trend line`;
  // humanDuration already says "~3 h".
  return `${label} ${higherIsBetter ? 'falls below' : 'reaches'} ${limit} in ${formatDuration(ms)}`;
}

function trendEntry(
  ctx: Context,
  scope: TrendEntry['scope'],
  subject: string,
  cluster: string,
  metric: MetricName,
  series: readonly Point[],
  horizonMs: number,
): TrendEntry {
  const threshold = ctx.threshold(metric);
  const trend = analyzeTrend(series, { higherIsBetter: METRIC_INFO[metric].higherIsBetter, horizonMs, ...(threshold !== null ? { threshold } : {}) });
  const last = series.length ? series[series.length - 1]!.v : null;
  const maxAnomalies = Math.max(0, ctx.opts.maxAnomalies ?? 5);
  const finite = (v: number): number => (Number.isFinite(v) ? round(v, 6) : 0);
  return {
    scope,
    subject,
    cluster,
    metric,
    direction: trend.direction,
    slopePerHour: finite(trend.slopePerHour),
    confidence: finite(trend.confidence),
    noise: finite(trend.noise),
    n: trend.n,
    last: last === null ? null : round(last, 4),
    prediction:
      trend.direction === 'insufficient-data' || !Number.isFinite(trend.prediction.value)
        ? null
        : { at: trend.prediction.at, value: finite(trend.prediction.value), low: finite(trend.prediction.low), high: finite(trend.prediction.high) },
    threshold,
    timeToThresholdMs: trend.timeToThresholdMs !== undefined && Number.isFinite(trend.timeToThresholdMs) ? Math.round(trend.timeToThresholdMs) : null,
    sentence: trendSentence(metric, trend, threshold, last),
    anomalies: [...trend.anomalies]
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || a.t - b.t)
      .slice(0, maxAnomalies)
      .map((a) => ({ t: a.t, v: round(a.v, 4), z: round(a.z, 3) })),
    fit: trend.direction === 'insufficient-data' ? null : { from: trend.from, to: trend.to, intercept: finite(trend.intercept) },
    ...(scope === 'cluster' ? { series: roundSeries(series) } : {}),
  };
}

async function buildTrends(ctx: Context): Promise<TrendsReport> {
  const horizonMs = ctx.opts.horizonMs ?? 6 * HOUR_MS;
  const bucketMs = ctx.bucketMs();
  const endpoints: TrendEntry[] = [];
  const clusters = new ClusterSeries();
  await ctx.scan((f) => {
    const series = f.bucketSeries(bucketMs);
    clusters.add(f.cluster, series);
    for (const m of METRICS) if (series[m].length > 0) endpoints.push(trendEntry(ctx, 'endpoint', f.key, f.cluster, m, series[m], horizonMs));
  }, false);
  const clusterEntries: TrendEntry[] = [];
  for (const c of clusters.clusters())
    for (const m of METRICS) if (c.series[m].length > 0) clusterEntries.push(trendEntry(ctx, 'cluster', c.name, c.name, m, c.series[m], horizonMs));
  return { meta: ctx.meta('trends'), horizonMs, bucketMs, thresholds: ctx.thresholdsRecord(), clusters: clusterEntries, endpoints };
}
