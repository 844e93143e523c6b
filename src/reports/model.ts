/**
 * The one report model. Every report type is plain data (JSON-safe: numbers, strings, null, arrays,
 * objects) built by `build.ts` from the store (history, alerts) and, when live, the operations facade
 * (current health). Renderers never reach back to the store: they read this model only.
 *
 * Size is bounded by endpoints × chart resolution, never by the number of history points.
 * Times are ms since the epoch, durations ms, percentages 0..100, error rates 0..1.
 */
import type { CircuitState, Status } from '../core/model.js';
import type { AlertLevel, ClusterSnapshot, PublishedHealth } from '../operations.js';
import { REPORT_FORMATS, REPORT_TYPES, type ReportFormat, type ReportType } from '../config/reports-schema.js';

export { REPORT_FORMATS, REPORT_TYPES, type ReportFormat, type ReportType };

/** Version of the JSON shape; bumped on incompatible changes. */
export const REPORT_SCHEMA_VERSION = 1;

export const METRICS = ['score', 'latencyMs', 'errorRate', 'cpuPercent', 'memoryPercent', 'diskPercent'] as const;
export type MetricName = (typeof METRICS)[number];

export interface MetricInfo {
  name: MetricName;
  /** Human label, e.g. "memory". */
  label: string;
  /** Suffix for values: "%", " ms", "" (error rate is shown as a percentage by the renderers). */
  unit: string;
  higherIsBetter: boolean;
}

export const METRIC_INFO: Readonly<Record<MetricName, MetricInfo>> = {
  score: { name: 'score', label: 'score', unit: '', higherIsBetter: true },
  latencyMs: { name: 'latencyMs', label: 'latency', unit: ' ms', higherIsBetter: false },
  errorRate: { name: 'errorRate', label: 'error rate', unit: '', higherIsBetter: false },
  cpuPercent: { name: 'cpuPercent', label: 'CPU', unit: '%', higherIsBetter: false },
  memoryPercent: { name: 'memoryPercent', label: 'memory', unit: '%', higherIsBetter: false },
  diskPercent: { name: 'diskPercent', label: 'disk', unit: '%', higherIsBetter: false },
};

export const STATUSES: readonly Status[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY'];
export const HEALTHS: readonly PublishedHealth[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'DRAINING'];
export const ALERT_LEVELS: readonly AlertLevel[] = ['info', 'warning', 'critical'];

export interface ReportQuery {
  from: number;
  to: number;
  cluster?: string | undefined;
}

export interface ReportMeta {
  schemaVersion: number;
  type: ReportType;
  title: string;
  generatedAt: number;
  from: number;
  to: number;
  /** Only this cluster, when asked. */
  cluster: string | null;
  /** `live`: current state from the running control plane; `store`: built offline from the history alone. */
  source: 'live' | 'store';
  /** History points read to build it. */
  points: number;
}

export interface Point {
  t: number;
  v: number;
}

export interface Stats {
  /** Samples with a value. */
  n: number;
  min: number;
  mean: number;
  p95: number;
  max: number;
}

/** Current state (live: the engine's decision; offline: the last recorded point). */
export interface CurrentState {
  status: Status;
  health: PublishedHealth;
  score: number;
  weight: number;
  reasons: string[];
  /** When it was observed. */
  at: number;
}

export interface EndpointSummary {
  key: string;
  cluster: string;
  /** History points in range. */
  samples: number;
  /** Time covered by samples (each point holds until the next one, capped at a gap limit). */
  coveredMs: number;
  healthyMs: number;
  /** Share of covered time with status HEALTHY, 0..100; null without samples. */
  availabilityPercent: number | null;
  /** Entries into UNHEALTHY (one if the range starts unhealthy). */
  incidents: number;
  current: CurrentState | null;
}

export interface ClusterSummary {
  name: string;
  endpoints: number;
  coveredMs: number;
  healthyMs: number;
  availabilityPercent: number | null;
  incidents: number;
  /** Live only: the cluster as the engine sees it now (JSON-safe: no reason is null). */
  current: (Pick<ClusterSnapshot, 'total' | 'healthy' | 'failing' | 'ejected' | 'guarded' | 'allFailing'> & { reason: string | null }) | null;
  /** Current endpoint statuses (from `current`). */
  currentStatus: Record<Status, number>;
}

export interface AlertCounts {
  total: number;
  firing: number;
  byLevel: Record<AlertLevel, number>;
}

export interface SummaryReport {
  meta: ReportMeta & { type: 'summary' };
  totals: { clusters: number; endpoints: number; availabilityPercent: number | null; incidents: number };
  clusters: ClusterSummary[];
  endpoints: EndpointSummary[];
  alerts: AlertCounts;
}

export interface ReasonSeen {
  reason: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

export interface EndpointDetail extends EndpointSummary {
  stats: Record<MetricName, Stats | null>;
  /** ms in each decided status over the covered time. */
  timeInStatus: Record<Status, number>;
  /** ms in each published health over the covered time. */
  timeInHealth: Record<PublishedHealth, number>;
  /** Transitions of the circuit into `open`. */
  circuitTrips: number;
  lastCircuit: CircuitState | null;
  /** Most frequent first (at most `maxReasons`); `otherReasons` counts the rest. */
  reasons: ReasonSeen[];
  otherReasons: number;
  /** Downsampled series for charts (each at most `seriesPoints` long); empty when the metric was never recorded. */
  series: Record<MetricName, Point[]>;
}

export interface DetailedReport {
  meta: ReportMeta & { type: 'detailed' };
  clusters: ClusterSummary[];
  endpoints: EndpointDetail[];
}

export interface ClusterMetrics {
  name: string;
  endpoints: number;
  /** Per metric, the mean over the cluster's endpoints per bucket of `bucketMs`. */
  series: Record<MetricName, Point[]>;
  stats: Record<MetricName, Stats | null>;
}

export interface EndpointMetrics {
  key: string;
  cluster: string;
  samples: number;
  stats: Record<MetricName, Stats | null>;
}

export interface MetricsReport {
  meta: ReportMeta & { type: 'metrics' };
  bucketMs: number;
  clusters: ClusterMetrics[];
  endpoints: EndpointMetrics[];
}

export interface AlertEntry {
  id: string;
  rule: string;
  level: AlertLevel;
  subject: string;
  cluster: string | null;
  message: string;
  state: 'firing' | 'resolved';
  firedAt: number;
  resolvedAt: number | null;
  /** Resolved: resolvedAt − firedAt; firing: until the end of the range (or now). */
  durationMs: number;
  count: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

export interface AlertGroup {
  /** Level or rule name. */
  name: string;
  count: number;
  firing: number;
  resolved: number;
  /** Mean time to resolve over the resolved ones; null when none resolved. */
  mttrMs: number | null;
  maxDurationMs: number | null;
}

export interface AlertsReport {
  meta: ReportMeta & { type: 'alerts' };
  totals: AlertCounts & { resolved: number; mttrMs: number | null; acknowledged: number };
  byLevel: AlertGroup[];
  byRule: AlertGroup[];
  alerts: AlertEntry[];
}

export type TrendDirection = 'improving' | 'stable' | 'degrading' | 'volatile' | 'insufficient-data';

export interface TrendEntry {
  /** `endpoint` (one endpoint's metric) or `cluster` (the mean over its endpoints). */
  scope: 'endpoint' | 'cluster';
  /** Endpoint key or cluster name. */
  subject: string;
  cluster: string;
  metric: MetricName;
  direction: TrendDirection;
  slopePerHour: number;
  confidence: number;
  noise: number;
  n: number;
  last: number | null;
  prediction: { at: number; value: number; low: number; high: number } | null;
  threshold: number | null;
  timeToThresholdMs: number | null;
  /** e.g. "memory reaches 90% in ~3 h"; null when nothing crosses within the horizon. */
  sentence: string | null;
  anomalies: Array<{ t: number; v: number; z: number }>;
  /** The fitted line: value `intercept` at `from`, changing by slopePerHour; null without enough data. */
  fit: { from: number; to: number; intercept: number } | null;
  /** Cluster entries only: the rolled-up series the trend was fitted to (for charts). */
  series?: Point[] | undefined;
}

export interface TrendsReport {
  meta: ReportMeta & { type: 'trends' };
  horizonMs: number;
  /** Series were rolled up into buckets of this size before the analysis. */
  bucketMs: number;
  thresholds: Record<MetricName, number | null>;
  clusters: TrendEntry[];
  endpoints: TrendEntry[];
}

export type Report = SummaryReport | DetailedReport | MetricsReport | AlertsReport | TrendsReport;
export type ReportOf<T extends ReportType> = Extract<Report, { meta: { type: T } }>;
