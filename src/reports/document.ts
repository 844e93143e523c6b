/**
 * The presentation view of a report: titled sections of notes, charts and tables, derived from the
 * report model alone. HTML, CSV, Markdown and XLSX all render this view (JSON renders the model),
 * so every format shows the same numbers.
 *
 * Table rows are produced lazily (`rows()` is a generator over the model), so streaming renderers
 * never hold a second copy of a large table. Cells are raw values: numbers stay numbers (durations
 * in ms, times in ms since the epoch, percentages 0..100); each renderer formats them by column kind.
 */
import { formatDuration, formatMetric, formatSpan, formatTime, metricLabel } from './format.js';
import {
  METRIC_INFO,
  METRICS,
  REPORT_TYPES,
  type AlertGroup,
  type AlertsReport,
  type ClusterSummary,
  type DetailedReport,
  type EndpointDetail,
  type MetricName,
  type MetricsReport,
  type Point,
  type Report,
  type ReportType,
  type Stats,
  type SummaryReport,
  type TrendEntry,
  type TrendsReport,
} from './model.js';

export type ColumnKind = 'text' | 'integer' | 'number' | 'percent' | 'time' | 'duration';
export type Cell = string | number | null;

export interface Column {
  label: string;
  kind: ColumnKind;
}

export interface Table {
  /** Stable id: the `table` query parameter, the XLSX sheet, the CSV selection. */
  id: string;
  title: string;
  columns: Column[];
  rowCount: number;
  rows(): Iterable<Cell[]>;
}

export interface LineSeries {
  name: string;
  points: Point[];
  /** Palette index, so one cluster keeps its colour across charts (default: the series' position). */
  colour?: number | undefined;
}

export interface LineChart {
  kind: 'line';
  title: string;
  /** How values read: metric formatting for axis labels. */
  metric?: MetricName | undefined;
  from: number;
  to: number;
  yMin?: number | undefined;
  yMax?: number | undefined;
  series: LineSeries[];
  /** A dashed line (a trend fit or its prediction) and a shaded band. */
  overlay?: { line: Point[]; band?: { at: number; low: number; high: number } | undefined } | undefined;
  /** A horizontal reference line (a threshold). */
  threshold?: number | undefined;
  markers?: Point[] | undefined;
}

export interface BarChart {
  kind: 'bars';
  title: string;
  /** Suffix of values ("%"). */
  unit: string;
  max: number;
  bars: Array<{ label: string; value: number | null }>;
}

export type Chart = LineChart | BarChart;

export interface Section {
  id: string;
  title: string;
  notes: string[];
  charts: Chart[];
  tables: Table[];
}

export interface ReportDocument {
  type: ReportType;
  title: string;
  /** Key facts shown at the top: [label, value]. */
  facts: Array<[string, string]>;
  sections: Section[];
  /** The table a single-table format (CSV) renders by default. */
  primaryTable: string;
}

export interface DocumentOptions {
  /** Charts drawn per chart group (endpoints are picked worst first). Default 24. */
  maxCharts?: number | undefined;
  /** Bars per bar chart (worst first). Default 40. */
  maxBars?: number | undefined;
}

/** Tables each report type has, first the primary one (GET /reports lists them). */
export const TABLES: Readonly<Record<ReportType, readonly string[]>> = {
  summary: ['endpoints', 'clusters', 'alert-levels'],
  detailed: ['endpoints', 'clusters', 'stats', 'reasons'],
  metrics: ['endpoint-stats', 'cluster-stats', 'cluster-series'],
  alerts: ['alerts', 'by-level', 'by-rule'],
  trends: ['endpoint-trends', 'cluster-trends'],
};

export function toDocument(report: Report, opts: DocumentOptions = {}): ReportDocument {
  const o = { maxCharts: opts.maxCharts ?? 24, maxBars: opts.maxBars ?? 40 };
  switch (report.meta.type) {
    case 'summary':
      return summaryDocument(report as SummaryReport, o);
    case 'detailed':
      return detailedDocument(report as DetailedReport, o);
    case 'metrics':
      return metricsDocument(report as MetricsReport, o);
    case 'alerts':
      return alertsDocument(report as AlertsReport, o);
    case 'trends':
      return trendsDocument(report as TrendsReport, o);
  }
}

export function tableById(doc: ReportDocument, id: string): Table | undefined {
  for (const s of doc.sections) for (const t of s.tables) if (t.id === id) return t;
  return undefined;
}

export function allTables(doc: ReportDocument): Table[] {
  return doc.sections.flatMap((s) => s.tables);
}

// ---------------------------------------------------------------------------------------------

const col = (label: string, kind: ColumnKind = 'text'): Column => ({ label, kind });

function table<T>(id: string, title: string, columns: Column[], items: readonly T[], row: (item: T) => Cell[]): Table {
  return {
    id,
    title,
    columns,
    rowCount: items.length,
    *rows() {
      for (const item of items) yield row(item);
    },
  };
}

function baseFacts(r: Report): Array<[string, string]> {
  const m = r.meta;
  return [
    ['Report', `${m.title} (${m.type})`],
    ['From', formatTime(m.from)],
    ['To', formatTime(m.to)],
    ['Range', formatSpan(m.to - m.from)],
    ['Cluster', m.cluster ?? 'all'],
    ['Generated', formatTime(m.generatedAt)],
    ['Source', m.source === 'live' ? 'running control plane' : 'history store (offline)'],
    // The alerts report reads no history.
    ...(m.type === 'alerts' ? [] : [['History points', String(m.points)] as [string, string]]),
  ];
}

const pct = (v: number | null): string => (v === null ? 'no data' : `${v.toFixed(v >= 99.995 || v === 0 ? 0 : 2)}%`);

const worstFirst = <T extends { availabilityPercent: number | null; key?: string; name?: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => (a.availabilityPercent ?? 101) - (b.availabilityPercent ?? 101) || String(a.key ?? a.name).localeCompare(String(b.key ?? b.name)));

function availabilityBars(title: string, items: ReadonlyArray<{ label: string; availabilityPercent: number | null }>, maxBars: number): BarChart {
  return { kind: 'bars', title, unit: '%', max: 100, bars: items.slice(0, maxBars).map((i) => ({ label: i.label, value: i.availabilityPercent })) };
}

function clusterTable(clusters: readonly ClusterSummary[]): Table {
  return table(
    'clusters',
    'Clusters',
    [
      col('Cluster'),
      col('Endpoints', 'integer'),
      col('Availability', 'percent'),
      col('Incidents', 'integer'),
      col('Covered', 'duration'),
      col('Healthy now', 'integer'),
      col('Degraded now', 'integer'),
      col('Unhealthy now', 'integer'),
      col('Ejected', 'integer'),
      col('Guarded', 'integer'),
      col('All failing'),
      col('Guard reason'),
    ],
    clusters,
    (c) => [
      c.name,
      c.endpoints,
      c.availabilityPercent,
      c.incidents,
      c.coveredMs,
      c.currentStatus.HEALTHY,
      c.currentStatus.DEGRADED,
      c.currentStatus.UNHEALTHY,
      c.current?.ejected ?? null,
      c.current?.guarded ?? null,
      c.current ? (c.current.allFailing ? 'yes' : 'no') : null,
      c.current?.reason ?? null,
    ],
  );
}

function summaryDocument(r: SummaryReport, o: Required<DocumentOptions>): ReportDocument {
  const facts = baseFacts(r);
  facts.push(
    ['Availability', pct(r.totals.availabilityPercent)],
    ['Clusters', String(r.totals.clusters)],
    ['Endpoints', String(r.totals.endpoints)],
    ['Incidents', String(r.totals.incidents)],
    [
      'Alerts',
      `${r.alerts.total} (critical ${r.alerts.byLevel.critical}, warning ${r.alerts.byLevel.warning}, info ${r.alerts.byLevel.info}; firing ${r.alerts.firing})`,
    ],
  );
  const endpoints = table(
    'endpoints',
    'Endpoints',
    [
      col('Endpoint'),
      col('Cluster'),
      col('Samples', 'integer'),
      col('Availability', 'percent'),
      col('Incidents', 'integer'),
      col('Covered', 'duration'),
      col('Status now'),
      col('Published now'),
      col('Score now', 'number'),
      col('Reasons now'),
    ],
    r.endpoints,
    (e) => [
      e.key,
      e.cluster,
      e.samples,
      e.availabilityPercent,
      e.incidents,
      e.coveredMs,
      e.current?.status ?? null,
      e.current?.health ?? null,
      e.current?.score ?? null,
      e.current?.reasons.join('; ') ?? null,
    ],
  );
  const alertLevels = table('alert-levels', 'Alerts by level', [col('Level'), col('Alerts', 'integer')], ['critical', 'warning', 'info'] as const, (l) => [
    l,
    r.alerts.byLevel[l],
  ]);
  return {
    type: 'summary',
    title: r.meta.title,
    facts,
    primaryTable: 'endpoints',
    sections: [
      {
        id: 'clusters',
        title: 'Clusters',
        notes: [`Availability is the share of recorded time each endpoint was HEALTHY (time-weighted by sample spacing).`],
        charts: [
          availabilityBars(
            'Availability by cluster',
            worstFirst(r.clusters).map((c) => ({ label: c.name, availabilityPercent: c.availabilityPercent })),
            o.maxBars,
          ),
        ],
        tables: [clusterTable(r.clusters)],
      },
      {
        id: 'endpoints',
        title: 'Endpoints',
        notes: r.endpoints.length > o.maxBars ? [`The chart shows the ${o.maxBars} endpoints with the lowest availability.`] : [],
        charts: [
          availabilityBars(
            'Availability by endpoint (lowest first)',
            worstFirst(r.endpoints).map((e) => ({ label: e.key, availabilityPercent: e.availabilityPercent })),
            o.maxBars,
          ),
        ],
        tables: [endpoints],
      },
      { id: 'alerts', title: 'Alerts', notes: [], charts: [], tables: [alertLevels] },
    ],
  };
}

const statsColumns = (): Column[] => [col('Samples', 'integer'), col('Min', 'number'), col('Mean', 'number'), col('P95', 'number'), col('Max', 'number')];
const statsCells = (s: Stats | null): Cell[] => (s ? [s.n, s.min, s.mean, s.p95, s.max] : [0, null, null, null, null]);

function* statRows<T extends { key: string; cluster: string; stats: Record<MetricName, Stats | null> }>(items: readonly T[]): Generator<Cell[]> {
  for (const e of items) for (const m of METRICS) if (e.stats[m]) yield [e.key, e.cluster, metricLabel(m), ...statsCells(e.stats[m])];
}

const countStats = <T extends { stats: Record<MetricName, Stats | null> }>(items: readonly T[]): number =>
  items.reduce((n, e) => n + METRICS.filter((m) => e.stats[m]).length, 0);

function endpointCharts(e: EndpointDetail, from: number, to: number): Chart[] {
  const charts: Chart[] = [];
  if (e.series.score.length)
    charts.push({ kind: 'line', title: `${e.key}: score`, metric: 'score', from, to, yMin: 0, yMax: 100, series: [{ name: 'score', points: e.series.score }] });
  if (e.series.latencyMs.length)
    charts.push({
      kind: 'line',
      title: `${e.key}: latency`,
      metric: 'latencyMs',
      from,
      to,
      yMin: 0,
      series: [{ name: 'latency', points: e.series.latencyMs }],
    });
  const usage = (['cpuPercent', 'memoryPercent', 'diskPercent'] as const)
    .filter((m) => e.series[m].length)
    .map((m) => ({ name: metricLabel(m), points: e.series[m] }));
  if (usage.length) charts.push({ kind: 'line', title: `${e.key}: CPU, memory, disk`, metric: 'cpuPercent', from, to, yMin: 0, yMax: 100, series: usage });
  if (e.series.errorRate.length)
    charts.push({
      kind: 'line',
      title: `${e.key}: error rate`,
      metric: 'errorRate',
      from,
      to,
      yMin: 0,
      series: [{ name: 'error rate', points: e.series.errorRate }],
    });
  return charts;
}

function detailedDocument(r: DetailedReport, o: Required<DocumentOptions>): ReportDocument {
  const facts = baseFacts(r);
  facts.push(['Endpoints', String(r.endpoints.length)], ['Clusters', String(r.clusters.length)]);
  const worst = worstFirst(r.endpoints).filter((e) => e.samples > 0);
  const charted = worst.slice(0, o.maxCharts);
  const endpoints = table(
    'endpoints',
    'Endpoints',
    [
      col('Endpoint'),
      col('Cluster'),
      col('Samples', 'integer'),
      col('Availability', 'percent'),
      col('Incidents', 'integer'),
      col('Circuit trips', 'integer'),
      col('Healthy', 'duration'),
      col('Degraded', 'duration'),
      col('Unhealthy', 'duration'),
      col('Draining', 'duration'),
      col('Status now'),
      col('Published now'),
      col('Top reasons'),
    ],
    r.endpoints,
    (e) => [
      e.key,
      e.cluster,
      e.samples,
      e.availabilityPercent,
      e.incidents,
      e.circuitTrips,
      e.timeInStatus.HEALTHY,
      e.timeInStatus.DEGRADED,
      e.timeInStatus.UNHEALTHY,
      e.timeInHealth.DRAINING,
      e.current?.status ?? null,
      e.current?.health ?? null,
      e.reasons
        .slice(0, 3)
        .map((x) => x.reason)
        .join('; '),
    ],
  );
  const stats: Table = {
    id: 'stats',
    title: 'Metric statistics per endpoint',
    columns: [col('Endpoint'), col('Cluster'), col('Metric'), ...statsColumns()],
    rowCount: countStats(r.endpoints),
    rows: () => statRows(r.endpoints),
  };
  const reasons: Table = {
    id: 'reasons',
    title: 'Reasons seen',
    columns: [col('Endpoint'), col('Reason'), col('Samples', 'integer'), col('First seen', 'time'), col('Last seen', 'time')],
    rowCount: r.endpoints.reduce((n, e) => n + e.reasons.length, 0),
    *rows() {
      for (const e of r.endpoints) for (const x of e.reasons) yield [e.key, x.reason, x.count, x.firstAt, x.lastAt];
    },
  };
  return {
    type: 'detailed',
    title: r.meta.title,
    facts,
    primaryTable: 'endpoints',
    sections: [
      {
        id: 'clusters',
        title: 'Clusters',
        notes: [],
        charts: [
          availabilityBars(
            'Availability by cluster',
            worstFirst(r.clusters).map((c) => ({ label: c.name, availabilityPercent: c.availabilityPercent })),
            o.maxBars,
          ),
        ],
        tables: [clusterTable(r.clusters)],
      },
      {
        id: 'endpoints',
        title: 'Endpoints',
        notes: [
          'Time in each status is time-weighted by sample spacing; circuit trips count transitions into the open state.',
          ...(worst.length > charted.length
            ? [`Charts are drawn for the ${charted.length} endpoints with the lowest availability; the tables list all ${r.endpoints.length}.`]
            : []),
        ],
        charts: [
          availabilityBars(
            'Availability by endpoint (lowest first)',
            worst.map((e) => ({ label: e.key, availabilityPercent: e.availabilityPercent })),
            o.maxBars,
          ),
          ...charted.flatMap((e) => endpointCharts(e, r.meta.from, r.meta.to)),
        ],
        tables: [endpoints],
      },
      {
        id: 'stats',
        title: 'Metric statistics',
        notes: ['Statistics over every recorded sample in range (p95 by nearest rank).'],
        charts: [],
        tables: [stats],
      },
      {
        id: 'reasons',
        title: 'Reasons',
        notes: ['How many samples carried each reason (most frequent first, at most 10 per endpoint).'],
        charts: [],
        tables: [reasons],
      },
    ],
  };
}

function metricsDocument(r: MetricsReport, o: Required<DocumentOptions>): ReportDocument {
  const facts = baseFacts(r);
  facts.push(['Bucket', formatSpan(r.bucketMs)], ['Clusters', String(r.clusters.length)], ['Endpoints', String(r.endpoints.length)]);
  const charted = r.clusters.slice(0, o.maxCharts);
  const charts: Chart[] = METRICS.filter((m) => charted.some((c) => c.series[m].length)).map((m) => ({
    kind: 'line',
    title: `${metricLabel(m)} by cluster (mean over endpoints per ${formatSpan(r.bucketMs)})`,
    metric: m,
    from: r.meta.from,
    to: r.meta.to,
    ...(m === 'score' || m.endsWith('Percent') ? { yMin: 0, yMax: 100 } : { yMin: 0 }),
    series: charted.map((c, i) => ({ name: c.name, points: c.series[m], colour: i })).filter((x) => x.points.length),
  }));
  const seriesRows = r.clusters.reduce((n, c) => n + new Set(METRICS.flatMap((m) => c.series[m].map((p) => p.t))).size, 0);
  const clusterSeries: Table = {
    id: 'cluster-series',
    title: 'Cluster series',
    columns: [col('Cluster'), col('Time', 'time'), ...METRICS.map((m) => col(metricLabel(m), 'number'))],
    rowCount: seriesRows,
    *rows() {
      for (const c of r.clusters) {
        const byTime = new Map<number, Cell[]>();
        METRICS.forEach((m, i) => {
          for (const p of c.series[m]) {
            let row = byTime.get(p.t);
            if (!row) {
              row = [c.name, p.t, ...METRICS.map(() => null)];
              byTime.set(p.t, row);
            }
            row[2 + i] = p.v;
          }
        });
        yield* [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, row]) => row);
      }
    },
  };
  const clusterStats: Table = {
    id: 'cluster-stats',
    title: 'Cluster statistics (over the per-bucket means)',
    columns: [col('Cluster'), col('Metric'), ...statsColumns()],
    rowCount: countStats(r.clusters),
    *rows() {
      for (const c of r.clusters) for (const m of METRICS) if (c.stats[m]) yield [c.name, metricLabel(m), ...statsCells(c.stats[m])];
    },
  };
  const endpointStats: Table = {
    id: 'endpoint-stats',
    title: 'Endpoint statistics',
    columns: [col('Endpoint'), col('Cluster'), col('Metric'), ...statsColumns()],
    rowCount: countStats(r.endpoints),
    rows: () => statRows(r.endpoints),
  };
  return {
    type: 'metrics',
    title: r.meta.title,
    facts,
    primaryTable: 'endpoint-stats',
    sections: [
      {
        id: 'clusters',
        title: 'Clusters',
        notes: [`Error rate is a ratio (0..1); CPU, memory and disk are percentages; latency in ms.`],
        charts,
        tables: [clusterStats, clusterSeries],
      },
      { id: 'endpoints', title: 'Endpoints', notes: [], charts: [], tables: [endpointStats] },
    ],
  };
}

function groupTable(id: string, title: string, first: string, groups: readonly AlertGroup[]): Table {
  return table(
    id,
    title,
    [col(first), col('Alerts', 'integer'), col('Firing', 'integer'), col('Resolved', 'integer'), col('MTTR', 'duration'), col('Longest', 'duration')],
    groups,
    (g) => [g.name, g.count, g.firing, g.resolved, g.mttrMs, g.maxDurationMs],
  );
}

function alertsDocument(r: AlertsReport, o: Required<DocumentOptions>): ReportDocument {
  const facts = baseFacts(r);
  facts.push(
    ['Alerts', String(r.totals.total)],
    ['Firing', String(r.totals.firing)],
    ['Resolved', String(r.totals.resolved)],
    ['MTTR', r.totals.mttrMs === null ? 'n/a' : formatSpan(r.totals.mttrMs)],
    ['Acknowledged', String(r.totals.acknowledged)],
  );
  const alerts = table(
    'alerts',
    'Alerts',
    [
      col('Fired', 'time'),
      col('Resolved', 'time'),
      col('Duration', 'duration'),
      col('Level'),
      col('Rule'),
      col('Subject'),
      col('Cluster'),
      col('State'),
      col('Count', 'integer'),
      col('Acknowledged by'),
      col('Message'),
    ],
    r.alerts,
    (a) => [a.firedAt, a.resolvedAt, a.durationMs, a.level, a.rule, a.subject, a.cluster, a.state, a.count, a.acknowledgedBy, a.message],
  );
  const max = Math.max(1, ...r.byRule.map((g) => g.count), ...r.byLevel.map((g) => g.count));
  return {
    type: 'alerts',
    title: r.meta.title,
    facts,
    primaryTable: 'alerts',
    sections: [
      {
        id: 'overview',
        title: 'Overview',
        notes: ['MTTR: mean time from firing to resolution over the resolved alerts; a firing alert lasts until the end of the range.'],
        charts: [
          { kind: 'bars', title: 'Alerts by level', unit: '', max, bars: r.byLevel.map((g) => ({ label: g.name, value: g.count })) },
          { kind: 'bars', title: 'Alerts by rule', unit: '', max, bars: r.byRule.slice(0, o.maxBars).map((g) => ({ label: g.name, value: g.count })) },
        ],
        tables: [groupTable('by-level', 'By level', 'Level', r.byLevel), groupTable('by-rule', 'By rule', 'Rule', r.byRule)],
      },
      { id: 'alerts', title: 'Alerts', notes: [], charts: [], tables: [alerts] },
    ],
  };
}

const trendColumns = (): Column[] => [
  col('Subject'),
  col('Cluster'),
  col('Metric'),
  col('Direction'),
  col('Slope per hour', 'number'),
  col('Confidence', 'number'),
  col('Points', 'integer'),
  col('Last', 'number'),
  col('Predicted', 'number'),
  col('Low', 'number'),
  col('High', 'number'),
  col('Predicted at', 'time'),
  col('Threshold', 'number'),
  col('Time to threshold', 'duration'),
  col('Outlook'),
  col('Anomalies', 'integer'),
];

const trendCells = (t: TrendEntry): Cell[] => [
  t.subject,
  t.cluster,
  metricLabel(t.metric),
  t.direction,
  // Too few points to call a direction: no slope shown either (the JSON keeps the fitted number).
  t.direction === 'insufficient-data' ? null : t.slopePerHour,
  t.confidence,
  t.n,
  t.last,
  t.prediction?.value ?? null,
  t.prediction?.low ?? null,
  t.prediction?.high ?? null,
  t.prediction?.at ?? null,
  t.threshold,
  t.timeToThresholdMs,
  t.sentence,
  t.anomalies.length,
];

function trendChart(t: TrendEntry, r: TrendsReport): LineChart {
  const line: Point[] = [];
  if (t.fit) {
    const at = (x: number): Point => ({ t: x, v: t.fit!.intercept + (t.slopePerHour * (x - t.fit!.from)) / 3_600_000 });
    line.push(at(t.fit.from), at(t.prediction?.at ?? t.fit.to));
  }
  const info = METRIC_INFO[t.metric];
  return {
    kind: 'line',
    title: `${t.subject}: ${info.label}, ${t.direction}${t.prediction ? `; predicted ${formatMetric(t.metric, t.prediction.value)} in ${formatDuration(r.horizonMs)}` : ''}`,
    metric: t.metric,
    from: r.meta.from,
    to: Math.max(r.meta.to, t.prediction?.at ?? r.meta.to),
    ...(t.metric === 'score' || t.metric.endsWith('Percent') ? { yMin: 0, yMax: 100 } : { yMin: 0 }),
    series: [{ name: info.label, points: t.series ?? [] }],
    overlay: { line, band: t.prediction ? { at: t.prediction.at, low: t.prediction.low, high: t.prediction.high } : undefined },
    threshold: t.threshold ?? undefined,
    markers: t.anomalies.map((a) => ({ t: a.t, v: a.v })),
  };
}

const DIRECTION_RANK: Record<TrendEntry['direction'], number> = { degrading: 0, volatile: 1, improving: 2, stable: 3, 'insufficient-data': 4 };

function trendsDocument(r: TrendsReport, o: Required<DocumentOptions>): ReportDocument {
  const facts = baseFacts(r);
  facts.push(['Horizon', formatSpan(r.horizonMs)], ['Bucket', formatSpan(r.bucketMs)]);
  const sentences = [...r.clusters, ...r.endpoints].filter((t) => t.sentence !== null);
  const outlook = sentences.slice(0, 50).map((t) => `${t.subject}: ${t.sentence!}`);
  if (sentences.length > 50) outlook.push(`… and ${sentences.length - 50} more (see the tables).`);
  const degrading = r.endpoints.filter((t) => t.direction === 'degrading').length;
  facts.push(['Degrading series', `${degrading} of ${r.endpoints.length} endpoint series`]);
  const charted = [...r.clusters]
    .sort((a, b) => DIRECTION_RANK[a.direction] - DIRECTION_RANK[b.direction] || a.subject.localeCompare(b.subject))
    .slice(0, o.maxCharts);
  return {
    type: 'trends',
    title: r.meta.title,
    facts,
    primaryTable: 'endpoint-trends',
    sections: [
      {
        id: 'outlook',
        title: 'Outlook',
        notes: outlook.length ? outlook : ['Nothing is predicted to cross a threshold within the horizon.'],
        charts: [],
        tables: [],
      },
      {
        id: 'clusters',
        title: 'Clusters',
        notes: [
          `Each series is rolled up into ${formatSpan(r.bucketMs)} buckets; the fit is Theil–Sen, the prediction ${formatSpan(r.horizonMs)} after the last point with a ~95% band.`,
        ],
        charts: charted.map((t) => trendChart(t, r)),
        tables: [table('cluster-trends', 'Cluster trends', trendColumns(), r.clusters, trendCells)],
      },
      {
        id: 'endpoints',
        title: 'Endpoints',
        notes: [],
        charts: [],
        tables: [
          table(
            'endpoint-trends',
            'Endpoint trends',
            trendColumns(),
            [...r.endpoints].sort(
              (a, b) => DIRECTION_RANK[a.direction] - DIRECTION_RANK[b.direction] || a.subject.localeCompare(b.subject) || a.metric.localeCompare(b.metric),
            ),
            trendCells,
          ),
        ],
      },
    ],
  };
}

/** Every type's tables, for GET /reports. */
export const REPORT_TABLES = Object.fromEntries(REPORT_TYPES.map((t) => [t, [...TABLES[t]]])) as Record<ReportType, string[]>;
