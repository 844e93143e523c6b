/** Conversions between the stored rows and the domain records. Absent optional fields are NULL in
 *  SQLite and absent (not `undefined`) in the records read back. */
import type { CircuitState, Status } from '../core/model.js';
import type { AlertLevel, AlertRecord, HistoryPoint, PublishedHealth } from '../operations.js';
import { ROLLUP_METRICS, type Rollup, type RollupMetric } from './rollup.js';
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

/** Roll-up metric columns: `<prefix>_n`, `_sum`, `_min`, `_max`. */
const ROLLUP_PREFIX: Record<RollupMetric, string> = { score: 'score', latencyMs: 'latency', errorRate: 'error', cpuPercent: 'cpu', memoryPercent: 'memory', diskPercent: 'disk' };

export const ROLLUP_COLUMNS = [
  'key', 'cluster', 'bucket', 'n', 'first_at', 'last_at', 'last_status', 'last_health', 'last_circuit', 'last_score', 'last_weight', 'last_reasons',
  'held_healthy', 'held_degraded', 'held_unhealthy', 'hheld_healthy', 'hheld_degraded', 'hheld_unhealthy', 'hheld_draining',
  'gap_n', 'gap_sum', 'incidents', 'trips', 'reasons', 'other_reasons',
  ...ROLLUP_METRICS.flatMap((m) => ['n', 'sum', 'min', 'max'].map((f) => `${ROLLUP_PREFIX[m]}_${f}`)),
] as const;

/** Column values in ROLLUP_COLUMNS order. */
export function rollupParams(r: Rollup): unknown[] {
  const reasons = Object.keys(r.reasons).length ? JSON.stringify(r.reasons) : null;
  const out: unknown[] = [
    r.key, r.cluster, r.bucket, r.n, r.firstAt, r.lastAt, r.lastStatus, r.lastHealth, r.lastCircuit, r.lastScore, r.lastWeight,
    r.lastReasons ? JSON.stringify(r.lastReasons) : null,
    r.heldStatus.HEALTHY, r.heldStatus.DEGRADED, r.heldStatus.UNHEALTHY,
    r.heldHealth.HEALTHY, r.heldHealth.DEGRADED, r.heldHealth.UNHEALTHY, r.heldHealth.DRAINING,
    r.gapN, r.gapSum, r.incidents, r.trips, reasons, r.otherReasons,
  ];
  for (const m of ROLLUP_METRICS) {
    const a = r.metrics[m];
    out.push(a?.n ?? 0, a?.sum ?? null, a?.min ?? null, a?.max ?? null);
  }
  return out;
}

/** A roll-up from a raw row (values in ROLLUP_COLUMNS order). */
export function toRollup(v: readonly unknown[]): Rollup {
  const num = (i: number): number => v[i] as number;
  const metrics = {} as Rollup['metrics'];
  ROLLUP_METRICS.forEach((m, k) => {
    const i = 25 + 4 * k;
    metrics[m] = num(i) > 0 ? { n: num(i), sum: num(i + 1), min: num(i + 2), max: num(i + 3) } : null;
  });
  return {
    key: v[0] as string,
    cluster: v[1] as string,
    bucket: num(2),
    n: num(3),
    firstAt: num(4),
    lastAt: num(5),
    lastStatus: v[6] as Status,
    lastHealth: v[7] as PublishedHealth,
    lastCircuit: v[8] as CircuitState,
    lastScore: num(9),
    lastWeight: num(10),
    lastReasons: v[11] === null ? undefined : (JSON.parse(v[11] as string) as string[]),
    heldStatus: { HEALTHY: num(12), DEGRADED: num(13), UNHEALTHY: num(14) },
    heldHealth: { HEALTHY: num(15), DEGRADED: num(16), UNHEALTHY: num(17), DRAINING: num(18) },
    gapN: num(19),
    gapSum: num(20),
    incidents: num(21),
    trips: num(22),
    reasons: v[23] === null ? {} : (JSON.parse(v[23] as string) as Rollup['reasons']),
    otherReasons: num(24),
    metrics,
  };
}
