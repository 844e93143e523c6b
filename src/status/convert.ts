/** Operations' snapshots → healthmesh.v1 wire messages. Pure functions. */
import type { CircuitState, Status } from '../core/model.js';
import type {
  AlertLevel,
  AlertRecord,
  ChangeEvent,
  ClusterSnapshot,
  EndpointSnapshot,
  HistoryPoint,
  ProxyRecord,
  PublishedHealth,
  TypeLedger,
} from '../operations.js';
import type {
  AlertLevelWire,
  AlertStateWire,
  AlertWire,
  CircuitStateWire,
  ClusterWire,
  EndpointWire,
  HealthStatusWire,
  HistoryPointWire,
  ProxyWire,
  TypeLedgerWire,
  WatchEventWire,
} from './proto.js';

export const STATUS_TO_WIRE: Readonly<Record<Status, HealthStatusWire>> = {
  HEALTHY: 'HEALTH_STATUS_HEALTHY',
  DEGRADED: 'HEALTH_STATUS_DEGRADED',
  UNHEALTHY: 'HEALTH_STATUS_UNHEALTHY',
};

export const HEALTH_TO_WIRE: Readonly<Record<PublishedHealth, HealthStatusWire>> = {
  ...STATUS_TO_WIRE,
  DRAINING: 'HEALTH_STATUS_DRAINING',
};

export const CIRCUIT_TO_WIRE: Readonly<Record<CircuitState, CircuitStateWire>> = {
  closed: 'CIRCUIT_STATE_CLOSED',
  open: 'CIRCUIT_STATE_OPEN',
  'half-open': 'CIRCUIT_STATE_HALF_OPEN',
};

export const ALERT_LEVEL_TO_WIRE: Readonly<Record<AlertLevel, AlertLevelWire>> = {
  info: 'ALERT_LEVEL_INFO',
  warning: 'ALERT_LEVEL_WARNING',
  critical: 'ALERT_LEVEL_CRITICAL',
};

export const ALERT_STATE_TO_WIRE: Readonly<Record<AlertRecord['state'], AlertStateWire>> = {
  firing: 'ALERT_STATE_FIRING',
  resolved: 'ALERT_STATE_RESOLVED',
};

/** Inverse of a total mapping, for request enums. */
export function invert<K extends string, V extends string>(m: Readonly<Record<K, V>>): ReadonlyMap<V, K> {
  return new Map(Object.entries(m).map(([k, v]) => [v as V, k as K]));
}

/** Weights are integers on the wire (Envoy's load_balancing_weight); never negative. */
const uint = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.round(n) : 0);
const ms = (n: number | undefined): number => (n !== undefined && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

export function endpointToWire(e: EndpointSnapshot): EndpointWire {
  return {
    key: e.key,
    cluster: e.cluster,
    address: e.address,
    port: e.port,
    zone: e.zone ?? '',
    score: e.score,
    status: STATUS_TO_WIRE[e.status],
    circuit: CIRCUIT_TO_WIRE[e.circuit],
    health: HEALTH_TO_WIRE[e.health],
    weight: uint(e.weight),
    target_weight: uint(e.targetWeight),
    weight_fraction: e.weightFraction,
    reasons: [...e.reasons],
    flapping: e.flapping,
    guarded: e.guarded,
    drained: e.drained,
    source: e.source === 'config' ? 'ENDPOINT_SOURCE_CONFIG' : 'ENDPOINT_SOURCE_RUNTIME',
    changed_at_ms: ms(e.changedAt),
    expected_share: e.expectedShare !== undefined && Number.isFinite(e.expectedShare) ? Math.max(0, Math.min(1, e.expectedShare)) : 0,
  };
}

export function clusterToWire(c: ClusterSnapshot): ClusterWire {
  return {
    name: c.name,
    total: uint(c.total),
    healthy: uint(c.healthy),
    failing: uint(c.failing),
    ejected: uint(c.ejected),
    guarded: uint(c.guarded),
    max_ejected: uint(c.maxEjected),
    all_failing: c.allFailing,
    reason: c.reason ?? '',
  };
}

export function historyToWire(p: HistoryPoint): HistoryPointWire {
  return {
    at_ms: ms(p.at),
    score: p.score,
    status: STATUS_TO_WIRE[p.status],
    circuit: CIRCUIT_TO_WIRE[p.circuit],
    health: HEALTH_TO_WIRE[p.health],
    weight: uint(p.weight),
    latency_ms: p.latencyMs,
    error_rate: p.errorRate,
    cpu_percent: p.cpuPercent,
    memory_percent: p.memoryPercent,
    disk_percent: p.diskPercent,
    heartbeat_age_s: p.heartbeatAgeS,
    reasons: [...(p.reasons ?? [])],
  };
}

export function alertToWire(a: AlertRecord): AlertWire {
  return {
    id: a.id,
    rule: a.rule,
    level: ALERT_LEVEL_TO_WIRE[a.level],
    subject: a.subject,
    cluster: a.cluster ?? '',
    message: a.message,
    state: ALERT_STATE_TO_WIRE[a.state],
    fired_at_ms: ms(a.firedAt),
    last_seen_at_ms: ms(a.lastSeenAt),
    resolved_at_ms: ms(a.resolvedAt),
    acknowledged_at_ms: ms(a.acknowledgedAt),
    acknowledged_by: a.acknowledgedBy ?? '',
    count: uint(a.count),
  };
}

/** Push order of the xDS types; anything else follows, by URL. */
const TYPE_ORDER = ['Listener', 'RouteConfiguration', 'Cluster', 'ClusterLoadAssignment'];
const typeRank = (typeUrl: string): number => {
  const i = TYPE_ORDER.indexOf(typeUrl.slice(typeUrl.lastIndexOf('.') + 1));
  return i < 0 ? TYPE_ORDER.length : i;
};

function typeToWire(typeUrl: string, t: TypeLedger): TypeLedgerWire {
  return {
    type_url: typeUrl,
    sent_version: t.sentVersion ?? '',
    sent_at_ms: ms(t.sentAt),
    acked_version: t.ackedVersion ?? '',
    acked_at_ms: ms(t.ackedAt),
    publish_to_ack_ms: t.publishToAckMs === undefined ? undefined : Math.max(0, Math.round(t.publishToAckMs)),
    nacks: uint(t.nacks),
    last_nack: t.lastNack
      ? {
          version: t.lastNack.version,
          message: t.lastNack.message,
          code: Math.trunc(t.lastNack.code),
          at_ms: ms(t.lastNack.at),
          resources: [...t.lastNack.resources],
        }
      : null,
    held_back: [...(t.heldBack ?? [])],
    bisecting: t.bisecting === true,
  };
}

export function proxyToWire(p: ProxyRecord): ProxyWire {
  const types = Object.entries(p.types)
    .sort(([a], [b]) => typeRank(a) - typeRank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([url, t]) => typeToWire(url, t));
  return {
    stream_id: p.streamId,
    node_id: p.nodeId,
    node_cluster: p.nodeCluster ?? '',
    user_agent: p.userAgent ?? '',
    protocol: p.protocol === 'delta' ? 'XDS_PROTOCOL_DELTA' : 'XDS_PROTOCOL_SOTW',
    peer: p.peer,
    connected_at_ms: ms(p.connectedAt),
    closed_at_ms: ms(p.closedAt),
    types,
    unknown_types: [...p.unknownTypes],
  };
}

/** The wire form of a live change. */
export function changeToWire(e: ChangeEvent): WatchEventWire {
  const at_ms = ms(e.at);
  switch (e.kind) {
    case 'endpoint':
      return {
        at_ms,
        event: 'endpoint',
        endpoint: endpointToWire(e.endpoint),
        previous: e.previous
          ? {
              status: STATUS_TO_WIRE[e.previous.status],
              circuit: CIRCUIT_TO_WIRE[e.previous.circuit],
              health: HEALTH_TO_WIRE[e.previous.health],
              weight: uint(e.previous.weight),
            }
          : null,
      };
    case 'endpoint-removed':
      return { at_ms, event: 'endpoint_removed', endpoint_removed: { key: e.key, cluster: e.cluster }, previous: null };
    case 'cluster':
      return { at_ms, event: 'cluster', cluster: clusterToWire(e.cluster), previous: null };
    case 'alert':
      return { at_ms, event: 'alert', alert: alertToWire(e.alert), previous: null };
  }
}

/** The marker that ends a Watch stream's initial state. */
export function syncedToWire(at: number, clusters: number, endpoints: number): WatchEventWire {
  return { at_ms: ms(at), event: 'synced', synced: { clusters: uint(clusters), endpoints: uint(endpoints) }, previous: null };
}

/** The cluster a change is about (alerts without a cluster are about none). */
export function changeCluster(e: ChangeEvent): string | undefined {
  switch (e.kind) {
    case 'endpoint':
      return e.endpoint.cluster;
    case 'endpoint-removed':
      return e.cluster;
    case 'cluster':
      return e.cluster.name;
    case 'alert':
      return e.alert.cluster;
  }
}

/** Events about the same subject share a key: a newer one supersedes an unsent older one. */
export function changeSubject(e: ChangeEvent): string {
  switch (e.kind) {
    case 'endpoint':
      return `endpoint:${e.endpoint.key}`;
    case 'endpoint-removed':
      return `endpoint:${e.key}`;
    case 'cluster':
      return `cluster:${e.cluster.name}`;
    case 'alert':
      return `alert:${e.alert.id}`;
  }
}
