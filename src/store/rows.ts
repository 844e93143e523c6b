/** Conversions between the stored rows and the domain records. Absent optional fields are NULL in
 *  SQLite and absent (not `undefined`) in the records read back. */
import type { CircuitState, Status } from '../core/model.js';
import type { AlertLevel, AlertRecord, HistoryPoint, PublishedHealth } from '../operations.js';
import { ROLLUP_METRICS, type Rollup } from './rollup.js';
import type { StoredRegistration } from './types.js';

export interface RegistrationRow {
  cluster: string;
  address: string;
  port: number;
  weight: number;
  zone: string | null;
  region: string | null;
  metadata: string | null;
  registered_at: number;
}

export interface HistoryRow {
  id: number;
  key: string;
  cluster: string;
  at: number;
  score: number;
  status: string;
  circuit: string;
  health: string;
  weight: number;
  latency_ms: number | null;
  error_rate: number | null;
  cpu: number | null;
  memory: number | null;
  disk: number | null;
  heartbeat_age_s: number | null;
  reasons: string | null;
}

export interface AlertRow {
  id: string;
  rule: string;
  level: string;
  subject: string;
  cluster: string | null;
  message: string;
  state: string;
  fired_at: number;
  last_seen_at: number;
  resolved_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  count: number;
}

export const HISTORY_COLUMNS =
  'id, key, cluster, at, score, status, circuit, health, weight, latency_ms, error_rate, cpu, memory, disk, heartbeat_age_s, reasons';

export const registrationParams = (r: StoredRegistration): unknown[] => [
  r.cluster,
  r.address,
  r.port,
  r.weight,
  r.zone ?? null,
  r.region ?? null,
  r.metadata === undefined ? null : JSON.stringify(r.metadata),
  r.registeredAt,
];

export function toRegistration(row: RegistrationRow): StoredRegistration {
  const r: StoredRegistration = { cluster: row.cluster, address: row.address, port: row.port, weight: row.weight, registeredAt: row.registered_at };
  if (row.zone !== null) r.zone = row.zone;
  if (row.region !== null) r.region = row.region;
  if (row.metadata !== null) r.metadata = JSON.parse(row.metadata) as Record<string, string>;
  return r;
}

export const historyParams = (p: HistoryPoint): unknown[] => [
  p.key,
  p.cluster,
  p.at,
  p.score,
  p.status,
  p.circuit,
  p.health,
  p.weight,
  p.latencyMs ?? null,
  p.errorRate ?? null,
  p.cpuPercent ?? null,
  p.memoryPercent ?? null,
  p.diskPercent ?? null,
  p.heartbeatAgeS ?? null,
  p.reasons === undefined ? null : JSON.stringify(p.reasons),
];

export function toPoint(row: HistoryRow): HistoryPoint {
  const p: HistoryPoint = {
    key: row.key,
    cluster: row.cluster,
    at: row.at,
    score: row.score,
    status: row.status as Status,
    circuit: row.circuit as CircuitState,
    health: row.health as PublishedHealth,
    weight: row.weight,
  };
  if (row.latency_ms !== null) p.latencyMs = row.latency_ms;
  if (row.error_rate !== null) p.errorRate = row.error_rate;
  if (row.cpu !== null) p.cpuPercent = row.cpu;
  if (row.memory !== null) p.memoryPercent = row.memory;
  if (row.disk !== null) p.diskPercent = row.disk;
  if (row.heartbeat_age_s !== null) p.heartbeatAgeS = row.heartbeat_age_s;
  if (row.reasons !== null) p.reasons = JSON.parse(row.reasons) as string[];
  return p;
}

export const alertParams = (a: AlertRecord): unknown[] => [
  a.id,
  a.rule,
  a.level,
  a.subject,
  a.cluster ?? null,
  a.message,
  a.state,
  a.firedAt,
  a.lastSeenAt,
  a.resolvedAt ?? null,
  a.acknowledgedAt ?? null,
  a.acknowledgedBy ?? null,
  a.count,
];

export function toAlert(row: AlertRow): AlertRecord {
  const a: AlertRecord = {
    id: row.id,
    rule: row.rule,
    level: row.level as AlertLevel,
    subject: row.subject,
    message: row.message,
    state: row.state as AlertRecord['state'],
    firedAt: row.fired_at,
    lastSeenAt: row.last_seen_at,
    count: row.count,
  };
  if (row.cluster !== null) a.cluster = row.cluster;
  if (row.resolved_at !== null) a.resolvedAt = row.resolved_at;
  if (row.acknowledged_at !== null) a.acknowledgedAt = row.acknowledged_at;
  if (row.acknowledged_by !== null) a.acknowledgedBy = row.acknowledged_by;
  return a;
}

/**
 * A roll-up row: key, cluster, bucket, n, agg, last_reasons, reasons. `agg` packs the numbers into
 * one float64 blob (one column instead of forty: reading a day of 1,000 endpoints' windows is then
 * dominated by SQLite, not by creating JS values):
 *   0-2 held by status (HEALTHY, DEGRADED, UNHEALTHY), 3-6 held by health (+ DRAINING),
 *   7 gapN, 8 gapSum, 9 incidents, 10 trips, 11 otherReasons, 12 firstAt, 13 lastAt,
 *   14 lastScore, 15 lastWeight, 16 lastStatus, 17 lastHealth, 18 lastCircuit (indexes below),
 *   19 + 4k .. 22 + 4k: metric k's n, sum, min, max (ROLLUP_METRICS order; n = 0 when none).
 */
export const ROLLUP_COLUMNS = ['key', 'cluster', 'bucket', 'n', 'agg', 'last_reasons', 'reasons'] as const;
const STATUSES: readonly Status[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY'];
const HEALTHS: readonly PublishedHealth[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'DRAINING'];
const CIRCUITS: readonly CircuitState[] = ['closed', 'open', 'half-open'];
const AGG_METRICS = 19;
const AGG_LENGTH = AGG_METRICS + 4 * ROLLUP_METRICS.length;

/** Column values in ROLLUP_COLUMNS order. */
export function rollupParams(r: Rollup): unknown[] {
  const a = new Float64Array(AGG_LENGTH);
  a.set([
    r.heldStatus.HEALTHY,
    r.heldStatus.DEGRADED,
    r.heldStatus.UNHEALTHY,
    r.heldHealth.HEALTHY,
    r.heldHealth.DEGRADED,
    r.heldHealth.UNHEALTHY,
    r.heldHealth.DRAINING,
  ]);
  a.set([r.gapN, r.gapSum, r.incidents, r.trips, r.otherReasons, r.firstAt, r.lastAt, r.lastScore, r.lastWeight], 7);
  a.set([STATUSES.indexOf(r.lastStatus), HEALTHS.indexOf(r.lastHealth), CIRCUITS.indexOf(r.lastCircuit)], 16);
  ROLLUP_METRICS.forEach((m, k) => {
    const x = r.metrics[m];
    if (x) a.set([x.n, x.sum, x.min, x.max], AGG_METRICS + 4 * k);
  });
  const reasons = Object.keys(r.reasons).length ? JSON.stringify(r.reasons) : null;
  return [r.key, r.cluster, r.bucket, r.n, Buffer.from(a.buffer), r.lastReasons ? JSON.stringify(r.lastReasons) : null, reasons];
}

/** A roll-up from a raw row (values in ROLLUP_COLUMNS order; `reasons` may be left out of the query: then {}). */
export function toRollup(v: readonly unknown[]): Rollup {
  const b = v[4] as Buffer;
  // A view when the blob is 8-byte aligned (better-sqlite3 gives each blob its own buffer), a copy otherwise.
  const a = b.byteOffset % 8 === 0 ? new Float64Array(b.buffer, b.byteOffset, b.length >> 3) : new Float64Array(Uint8Array.from(b).buffer);
  const f = (i: number): number => a[i] ?? 0;
  const metrics = {} as Rollup['metrics'];
  for (let k = 0; k < ROLLUP_METRICS.length; k++) {
    const i = AGG_METRICS + 4 * k;
    const n = f(i);
    metrics[ROLLUP_METRICS[k]!] = n > 0 ? { n, sum: f(i + 1), min: f(i + 2), max: f(i + 3) } : null;
  }
  return {
    key: v[0] as string,
    cluster: v[1] as string,
    bucket: v[2] as number,
    n: v[3] as number,
    heldStatus: { HEALTHY: f(0), DEGRADED: f(1), UNHEALTHY: f(2) },
    heldHealth: { HEALTHY: f(3), DEGRADED: f(4), UNHEALTHY: f(5), DRAINING: f(6) },
    gapN: f(7),
    gapSum: f(8),
    incidents: f(9),
    trips: f(10),
    otherReasons: f(11),
    firstAt: f(12),
    lastAt: f(13),
    lastScore: f(14),
    lastWeight: f(15),
    lastStatus: STATUSES[f(16)] ?? 'UNHEALTHY',
    lastHealth: HEALTHS[f(17)] ?? 'UNHEALTHY',
    lastCircuit: CIRCUITS[f(18)] ?? 'open',
    lastReasons: v[5] === null || v[5] === undefined ? undefined : (JSON.parse(v[5] as string) as string[]),
    reasons: v[6] === null || v[6] === undefined ? {} : (JSON.parse(v[6] as string) as Rollup['reasons']),
    metrics,
  };
}
