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
import type { CircuitState, Status } from '../core/model.js';
import { analyzeTrend, downsample, rollUp, type Trend } from '../core/trend.js';
import type { AlertRecord, EndpointSnapshot, HistoryPoint, Operations, PublishedHealth } from '../operations.js';
import type { Store } from '../store/types.js';
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

/** What reports are built from. Without `ops` (offline, from a store file) "current" is the last recorded point. */
export interface ReportSource {
  store: Pick<Store, 'historyRange' | 'historyKeys' | 'alerts'>;
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
/** Distinct reasons tracked per endpoint before the rest are only counted. */
const MAX_DISTINCT_REASONS = 500;

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

  /** Calls `each` with every endpoint's points in range (key order), yielding to the event loop as it goes. */
  async scan(each: (points: HistoryPoint[]) => void): Promise<void> {
    const every = Math.max(1, this.opts.yieldEvery ?? 5000);
    let batch: HistoryPoint[] = [];
    let sinceYield = 0;
    const it = this.source.store.historyRange({ from: this.q.from, to: this.q.to, cluster: this.q.cluster });
    try {
      for (;;) {
        const r = it.next();
        if (r.done) break;
        const p = r.value;
        if (batch.length > 0 && batch[0]!.key !== p.key) {
          each(batch);
          batch = [];
        }
        batch.push(p);
        this.points++;
        if (++sinceYield >= every) {
          sinceYield = 0;
          await tick();
          this.opts.signal?.throwIfAborted();
        }
      }
      if (batch.length > 0) each(batch);
    } finally {
      it.return?.();
    }
  }

  currentOf(key: string, last: HistoryPoint | undefined): CurrentState | null {
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

/** What one pass over an endpoint's points finds. */
interface EndpointFacts {
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
  last: HistoryPoint | undefined;
  reasons: Map<string, { count: number; firstAt: number; lastAt: number }>;
  otherReasons: number;
  metrics: Record<MetricName, Point[]>;
}

const zeroStatus = (): Record<Status, number> => ({ HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0 });
const zeroHealth = (): Record<PublishedHealth, number> => ({ HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, DRAINING: 0 });
const emptyMetrics = <T>(make: () => T): Record<MetricName, T> =>
  Object.fromEntries(METRICS.map((m) => [m, make()])) as Record<MetricName, T>;

function metricValue(p: HistoryPoint, m: MetricName): number | undefined {
  switch (m) {
    case 'score':
      return p.score;
    case 'latencyMs':
      return p.latencyMs;
    case 'errorRate':
      return p.errorRate;
    case 'cpuPercent':
      return p.cpuPercent;
    case 'memoryPercent':
      return p.memoryPercent;
    case 'diskPercent':
      return p.diskPercent;
  }
}

function analyzeEndpoint(points: readonly HistoryPoint[], to: number, opts: { maxGapMs?: number | undefined; reasons: boolean; metrics: boolean }): EndpointFacts {
  const first = points[0]!;
  const times = points.map((p) => p.at);
  const cap = opts.maxGapMs ?? Math.max(MIN_GAP_CAP_MS, 3 * medianSpacing(times));
  const facts: EndpointFacts = {
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
    last: points[points.length - 1],
    reasons: new Map(),
    otherReasons: 0,
    metrics: emptyMetrics<Point[]>(() => []),
  };
  let prev: HistoryPoint | undefined;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const next = points[i + 1]?.at ?? to;
    const held = Math.min(Math.max(0, next - p.at), cap);
    facts.coveredMs += held;
    facts.timeInStatus[p.status] = (facts.timeInStatus[p.status] ?? 0) + held;
    facts.timeInHealth[p.health] = (facts.timeInHealth[p.health] ?? 0) + held;
    if (p.status === 'HEALTHY') facts.healthyMs += held;
    if (p.status === 'UNHEALTHY' && prev?.status !== 'UNHEALTHY') facts.incidents++;
    if (p.circuit === 'open' && prev !== undefined && prev.circuit !== 'open') facts.circuitTrips++;
    if (opts.reasons && p.reasons) {
      for (const r of p.reasons) {
        const seen = facts.reasons.get(r);
        if (seen) {
          seen.count++;
          seen.lastAt = p.at;
        } else if (facts.reasons.size < MAX_DISTINCT_REASONS) facts.reasons.set(r, { count: 1, firstAt: p.at, lastAt: p.at });
        else facts.otherReasons++;
      }
    }
    if (opts.metrics) {
      for (const m of METRICS) {
        const v = metricValue(p, m);
        if (v !== undefined && Number.isFinite(v)) facts.metrics[m].push({ t: p.at, v });
      }
    }
    prev = p;
  }
  facts.lastCircuit = prev?.circuit ?? null;
  return facts;
}

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
  return { key: e.key, cluster: e.cluster, samples: 0, coveredMs: 0, healthyMs: 0, availabilityPercent: null, incidents: 0, current: ctx.currentOf(e.key, undefined) };
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
      current: c ? { total: c.total, healthy: c.healthy, failing: c.failing, ejected: c.ejected, guarded: c.guarded, allFailing: c.allFailing, reason: c.reason ?? null } : null,
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
  await ctx.scan((points) => {
    const f = analyzeEndpoint(points, ctx.q.to, { maxGapMs: ctx.opts.maxGapMs, reasons: false, metrics: false });
    seen.add(f.key);
    endpoints.push(endpointSummary(ctx, f));
  });
  for (const e of ctx.liveOnly(seen)) endpoints.push(emptyEndpointSummary(ctx, e));
  endpoints.sort((a, b) => a.key.localeCompare(b.key));
  const clusters = clusterSummaries(ctx, endpoints);
  const coveredMs = endpoints.reduce((s, e) => s + e.coveredMs, 0);
  const healthyMs = endpoints.reduce((s, e) => s + e.healthyMs, 0);
  return {
    meta: ctx.meta('summary'),
    totals: { clusters: clusters.length, endpoints: endpoints.length, availabilityPercent: availability(healthyMs, coveredMs), incidents: endpoints.reduce((s, e) => s + e.incidents, 0) },
    clusters,
    endpoints,
    alerts: alertCounts(ctx.alerts()),
  };
}

const statsOf = (metrics: Record<MetricName, Point[]>): Record<MetricName, Stats | null> =>
  Object.fromEntries(METRICS.map((m) => [m, roundStats(summarize(metrics[m].map((p) => p.v)))])) as Record<MetricName, Stats | null>;

const roundStats = (s: Stats | null): Stats | null => (s ? { n: s.n, min: round(s.min, 4), mean: round(s.mean, 4), p95: round(s.p95, 4), max: round(s.max, 4) } : null);

const noStats = (): Record<MetricName, Stats | null> => emptyMetrics<Stats | null>(() => null);

async function buildDetailed(ctx: Context): Promise<DetailedReport> {
  const seriesPoints = Math.max(2, ctx.opts.seriesPoints ?? 120);
  const maxReasons = Math.max(0, ctx.opts.maxReasons ?? 10);
  const endpoints: EndpointDetail[] = [];
  const seen = new Set<string>();
  await ctx.scan((points) => {
    const f = analyzeEndpoint(points, ctx.q.to, { maxGapMs: ctx.opts.maxGapMs, reasons: true, metrics: true });
    seen.add(f.key);
    const reasons: ReasonSeen[] = [...f.reasons.entries()]
      .map(([reason, r]) => ({ reason, count: r.count, firstAt: r.firstAt, lastAt: r.lastAt }))
      .sort((a, b) => b.count - a.count || a.firstAt - b.firstAt || a.reason.localeCompare(b.reason));
    const kept = reasons.slice(0, maxReasons);
    const otherReasons = f.otherReasons + reasons.slice(maxReasons).reduce((s, r) => s + r.count, 0);
    endpoints.push({
      ...endpointSummary(ctx, f),
      stats: statsOf(f.metrics),
      timeInStatus: f.timeInStatus,
      timeInHealth: f.timeInHealth,
      circuitTrips: f.circuitTrips,
      lastCircuit: f.lastCircuit,
      reasons: kept,
      otherReasons,
      series: Object.fromEntries(METRICS.map((m) => [m, roundSeries(downsample(f.metrics[m], seriesPoints))])) as Record<MetricName, Point[]>,
    });
  });
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

/** One bucketed series per metric of an endpoint, each added to its cluster's running means. */
function bucketed(f: EndpointFacts, bucketMs: number): Record<MetricName, Point[]> {
  return Object.fromEntries(METRICS.map((m) => [m, f.metrics[m].length ? rollUp([f.metrics[m]], bucketMs, 'mean') : []])) as Record<MetricName, Point[]>;
}

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
      .map(([name, c]) => ({ name, endpoints: c.endpoints, series: Object.fromEntries(METRICS.map((m) => [m, c.series[m].points()])) as Record<MetricName, Point[]> }));
  }
}

async function buildMetrics(ctx: Context): Promise<MetricsReport> {
  const bucketMs = niceBucket(ctx.q.to - ctx.q.from, ctx.opts.buckets ?? 288);
  const endpoints: EndpointMetrics[] = [];
  const clusters = new ClusterSeries();
  await ctx.scan((points) => {
    const f = analyzeEndpoint(points, ctx.q.to, { maxGapMs: ctx.opts.maxGapMs, reasons: false, metrics: true });
    endpoints.push({ key: f.key, cluster: f.cluster, samples: f.samples, stats: statsOf(f.metrics) });
    clusters.add(f.cluster, bucketed(f, bucketMs));
  });
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
  const byLevel = ALERT_LEVELS.map((level) => group(level, alerts.filter((a) => a.level === level)));
  const rules = [...new Set(alerts.map((a) => a.rule))].sort();
  const byRule = rules.map((rule) => group(rule, alerts.filter((a) => a.rule === rule))).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
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
export function trendSentence(metric: MetricName, trend: Pick<Trend, 'timeToThresholdMs' | 'direction'>, threshold: number | null, last: number | null): string | null {
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

function trendEntry(ctx: Context, scope: TrendEntry['scope'], subject: string, cluster: string, metric: MetricName, series: readonly Point[], horizonMs: number): TrendEntry {
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
  const bucketMs = niceBucket(ctx.q.to - ctx.q.from, ctx.opts.buckets ?? 288);
  const endpoints: TrendEntry[] = [];
  const clusters = new ClusterSeries();
  await ctx.scan((points) => {
    const f = analyzeEndpoint(points, ctx.q.to, { maxGapMs: ctx.opts.maxGapMs, reasons: false, metrics: true });
    const series = bucketed(f, bucketMs);
    clusters.add(f.cluster, series);
    for (const m of METRICS) if (series[m].length > 0) endpoints.push(trendEntry(ctx, 'endpoint', f.key, f.cluster, m, series[m], horizonMs));
  });
  const clusterEntries: TrendEntry[] = [];
  for (const c of clusters.clusters()) for (const m of METRICS) if (c.series[m].length > 0) clusterEntries.push(trendEntry(ctx, 'cluster', c.name, c.name, m, c.series[m], horizonMs));
  return { meta: ctx.meta('trends'), horizonMs, bucketMs, thresholds: ctx.thresholdsRecord(), clusters: clusterEntries, endpoints };
}

