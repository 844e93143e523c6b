/** Conversions between the stored rows and the domain records. Absent optional fields are NULL in
 *  SQLite and absent (not `undefined`) in the records read back. */
import type { CircuitState, Status } from '../core/model.js';
import type { AlertLevel, AlertRecord, HistoryPoint, PublishedHealth } from '../operations.js';
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
