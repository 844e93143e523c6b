/**
 * The JSON shape of every report type as a zod schema (strict: no unknown keys, finite numbers only).
 * For consumers of `format=json` and for the tests that parse rendered JSON back.
 */
import { z } from 'zod';
import { METRICS, REPORT_SCHEMA_VERSION } from './model.js';

const num = z.number().refine(Number.isFinite, 'must be finite');
const int = z.number().int();
const time = z.number().int();
const status = z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY']);
const health = z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'DRAINING']);
const level = z.enum(['info', 'warning', 'critical']);
const percent = num.min(0).max(100).nullable();
const point = z.object({ t: num, v: num }).strict();
const perMetric = <T extends z.ZodType>(t: T) => z.object(Object.fromEntries(METRICS.map((m) => [m, t])) as Record<(typeof METRICS)[number], T>).strict();
const stats = z
  .object({ n: int.min(1), min: num, mean: num, p95: num, max: num })
  .strict()
  .nullable();

const meta = <T extends string>(type: T) =>
  z
    .object({
      schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
      type: z.literal(type),
      title: z.string(),
      generatedAt: time,
      from: time,
      to: time,
      cluster: z.string().nullable(),
      source: z.enum(['live', 'store']),
      points: int.min(0),
    })
    .strict();

const current = z
  .object({ status, health, score: num, weight: num, reasons: z.array(z.string()), at: time })
  .strict()
  .nullable();

const endpointSummary = {
  key: z.string(),
  cluster: z.string(),
  samples: int.min(0),
  coveredMs: num.min(0),
  healthyMs: num.min(0),
  availabilityPercent: percent,
  incidents: int.min(0),
  current,
};

const clusterSummary = z
  .object({
    name: z.string(),
    endpoints: int.min(0),
    coveredMs: num.min(0),
    healthyMs: num.min(0),
    availabilityPercent: percent,
    incidents: int.min(0),
    current: z
      .object({ total: int, healthy: int, failing: int, ejected: int, guarded: int, allFailing: z.boolean(), reason: z.string().nullable() })
      .strict()
      .nullable(),
    currentStatus: z.object({ HEALTHY: int, DEGRADED: int, UNHEALTHY: int }).strict(),
  })
  .strict();

const alertCounts = { total: int.min(0), firing: int.min(0), byLevel: z.object({ info: int, warning: int, critical: int }).strict() };

export const summaryReportSchema = z
  .object({
    meta: meta('summary'),
    totals: z.object({ clusters: int, endpoints: int, availabilityPercent: percent, incidents: int }).strict(),
    clusters: z.array(clusterSummary),
    endpoints: z.array(z.object(endpointSummary).strict()),
    alerts: z.object(alertCounts).strict(),
  })
  .strict();

export const detailedReportSchema = z
  .object({
    meta: meta('detailed'),
    clusters: z.array(clusterSummary),
    endpoints: z.array(
      z
        .object({
          ...endpointSummary,
          stats: perMetric(stats),
          timeInStatus: z.object({ HEALTHY: num, DEGRADED: num, UNHEALTHY: num }).strict(),
          timeInHealth: z.object({ HEALTHY: num, DEGRADED: num, UNHEALTHY: num, DRAINING: num }).strict(),
          circuitTrips: int.min(0),
          lastCircuit: z.enum(['closed', 'open', 'half-open']).nullable(),
          reasons: z.array(z.object({ reason: z.string(), count: int.min(1), firstAt: time, lastAt: time }).strict()),
          otherReasons: int.min(0),
          series: perMetric(z.array(point)),
        })
        .strict(),
    ),
  })
  .strict();

export const metricsReportSchema = z
  .object({
    meta: meta('metrics'),
    bucketMs: int.min(1),
    clusters: z.array(z.object({ name: z.string(), endpoints: int, series: perMetric(z.array(point)), stats: perMetric(stats) }).strict()),
    endpoints: z.array(z.object({ key: z.string(), cluster: z.string(), samples: int, stats: perMetric(stats) }).strict()),
  })
  .strict();

const alertGroup = z.object({ name: z.string(), count: int, firing: int, resolved: int, mttrMs: num.nullable(), maxDurationMs: num.nullable() }).strict();

export const alertsReportSchema = z
  .object({
    meta: meta('alerts'),
    totals: z.object({ ...alertCounts, resolved: int, mttrMs: num.nullable(), acknowledged: int }).strict(),
    byLevel: z.array(alertGroup),
    byRule: z.array(alertGroup),
    alerts: z.array(
      z
        .object({
          id: z.string(),
          rule: z.string(),
          level,
          subject: z.string(),
          cluster: z.string().nullable(),
          message: z.string(),
          state: z.enum(['firing', 'resolved']),
          firedAt: time,
          resolvedAt: time.nullable(),
          durationMs: num.min(0),
          count: int,
          acknowledgedAt: time.nullable(),
          acknowledgedBy: z.string().nullable(),
        })
        .strict(),
    ),
  })
  .strict();

const trendEntry = z
  .object({
    scope: z.enum(['endpoint', 'cluster']),
    subject: z.string(),
    cluster: z.string(),
    metric: z.enum(METRICS),
    direction: z.enum(['improving', 'stable', 'degrading', 'volatile', 'insufficient-data']),
    slopePerHour: num,
    confidence: num.min(0).max(1),
    noise: num.min(0),
    n: int.min(0),
    last: num.nullable(),
    prediction: z.object({ at: num, value: num, low: num, high: num }).strict().nullable(),
    threshold: num.nullable(),
    timeToThresholdMs: num.min(0).nullable(),
    sentence: z.string().nullable(),
    anomalies: z.array(z.object({ t: num, v: num, z: num }).strict()),
    fit: z.object({ from: num, to: num, intercept: num }).strict().nullable(),
    series: z.array(point).optional(),
  })
  .strict();

export const trendsReportSchema = z
  .object({
    meta: meta('trends'),
    horizonMs: int.min(0),
    bucketMs: int.min(1),
    thresholds: perMetric(num.nullable()),
    clusters: z.array(trendEntry),
    endpoints: z.array(trendEntry),
  })
  .strict();

export const reportSchemas = {
  summary: summaryReportSchema,
  detailed: detailedReportSchema,
  metrics: metricsReportSchema,
  alerts: alertsReportSchema,
  trends: trendsReportSchema,
} as const;
