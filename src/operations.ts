/**
 * The model: the endpoint, cluster, history, alert and proxy shapes every adapter shares, and the
 * Operations facade over them that the status gRPC service, the admin HTTP endpoint, the CLI and the
 * reports use (implemented in src/service.ts). Imports nothing but the pure core. Each adapter maps
 * these shapes to its wire in one place: status in src/status/convert.ts (healthmesh.v1 messages);
 * admin serves them as JSON as they are (src/admin/routes.ts).
 */
import type { AlertLevel, OpenAlert } from './core/alerts.js';
import type { Decision, PublishedHealth } from './core/decide.js';
import type { ClusterVerdict } from './core/guard.js';
import type { CircuitState, EndpointKey, Status } from './core/model.js';

export type { AlertLevel, PublishedHealth };

/** An endpoint as the health engine holds it: who it is, and its decision after the guard and any drain. */
export interface EndpointHealth {
  key: EndpointKey;
  cluster: string;
  address: string;
  port: number;
  zone?: string | undefined;
  /** Drained by an operator (published DRAINING regardless of its health). */
  drained: boolean;
  decision: Decision;
  /** When its published health or weight last changed (ms since epoch). */
  changedAt: number;
  /** Expected share (0..1) of its cluster's requests through Envoy (healthmesh's model of Envoy's split). */
  expectedShare?: number | undefined;
}

/** The parts of a Decision operators see. */
type ShownDecision = Pick<
  Decision,
  'score' | 'status' | 'circuit' | 'health' | 'weight' | 'targetWeight' | 'weightFraction' | 'reasons' | 'flapping' | 'guarded'
>;

/** An endpoint as operators see it: the engine's view with its decision flattened, and where it comes from. */
export interface EndpointSnapshot extends Omit<EndpointHealth, 'decision'>, ShownDecision {
  /** `config`: declared in the config file; `runtime`: registered over the API. */
  source: 'config' | 'runtime';
}

/** Decision → EndpointSnapshot, the one place it is written. */
export function endpointSnapshot({ decision: d, ...endpoint }: EndpointHealth, source: EndpointSnapshot['source']): EndpointSnapshot {
  return {
    ...endpoint,
    score: d.score,
    status: d.status,
    circuit: d.circuit,
    health: d.health,
    weight: d.weight,
    targetWeight: d.targetWeight,
    weightFraction: d.weightFraction,
    reasons: d.reasons,
    flapping: d.flapping,
    guarded: d.guarded,
    source,
  };
}

/** A cluster's health summary: the guard's verdict, named, with its serving count. */
export interface ClusterSnapshot extends ClusterVerdict {
  name: string;
  /** Every endpoint of the cluster (the verdict's own count leaves warming endpoints out). */
  total: number;
  /** Endpoints published HEALTHY (serving at some weight). */
  healthy: number;
}

/** A cluster with no assignment yet. */
export const emptyClusterSnapshot = (name: string): ClusterSnapshot => ({
  name,
  total: 0,
  healthy: 0,
  failing: 0,
  ejected: 0,
  guarded: 0,
  maxEjected: 0,
  allFailing: false,
});

/** One recorded point of an endpoint's health over time. */
export interface HistoryPoint {
  key: EndpointKey;
  cluster: string;
  at: number;
  score: number;
  status: Status;
  circuit: CircuitState;
  health: PublishedHealth;
  weight: number;
  /** Mean latency of the recent probes, when actively checked. */
  latencyMs?: number | undefined;
  /** Error ratio (0..1) in real traffic from load reports, when known. */
  errorRate?: number | undefined;
  cpuPercent?: number | undefined;
  memoryPercent?: number | undefined;
  diskPercent?: number | undefined;
  /** Seconds since the node's last heartbeat, when an agent reports for it. */
  heartbeatAgeS?: number | undefined;
  reasons?: string[] | undefined;
}

export type AlertRecord = OpenAlert;

/** A proxy's NACK: what it rejected and why. */
export interface NackRecord {
  version: string;
  message: string;
  code: number;
  at: number;
  /** The resources in the rejected response (the first 100: xds/ledger.ts bounds what it keeps). */
  resources: string[];
  /** How many resources the rejected response carried. */
  resourceCount?: number;
}

/** One resource type on one proxy's stream: what it was sent, what it acknowledged, what it rejected. */
export interface TypeLedger {
  sentVersion?: string;
  sentAt?: number;
  ackedVersion?: string;
  ackedAt?: number;
  /** Milliseconds from the snapshot's publication to this proxy's ACK of it. */
  publishToAckMs?: number;
  lastNack?: NackRecord;
  nacks: number;
  /**
   * Resources whose current version this proxy rejected: held back (not re-sent until they change), so
   * the proxy lacks them although it may ACK later responses of the type (first 100 names).
   */
  heldBack?: string[];
  /** A rejected response with several changes is still being narrowed down (bisected). */
  bisecting?: boolean;
}

/** A connected (or recently disconnected) proxy, as the xDS ledger records it. */
export interface ProxyRecord {
  streamId: string;
  nodeId: string;
  nodeCluster?: string;
  userAgent?: string;
  protocol: 'sotw' | 'delta';
  peer: string;
  connectedAt: number;
  closedAt?: number;
  types: Record<string, TypeLedger>;
  unknownTypes: string[];
}

export type ChangeEvent =
  | { kind: 'endpoint'; at: number; endpoint: EndpointSnapshot; previous?: Pick<EndpointSnapshot, 'status' | 'circuit' | 'health' | 'weight'> | undefined }
  | { kind: 'endpoint-removed'; at: number; key: EndpointKey; cluster: string }
  | { kind: 'cluster'; at: number; cluster: ClusterSnapshot }
  | { kind: 'alert'; at: number; alert: AlertRecord };

export interface RegistrationRequest {
  cluster: string;
  address: string;
  port: number;
  weight?: number | undefined;
  zone?: string | undefined;
  region?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface HistoryQuery {
  from?: number | undefined;
  to?: number | undefined;
  limit?: number | undefined;
}

export interface Operations {
  clusters(): ClusterSnapshot[];
  endpoints(filter?: { cluster?: string | undefined; status?: Status | undefined }): EndpointSnapshot[];
  endpoint(key: EndpointKey): EndpointSnapshot | undefined;
  /** Newest last. */
  history(key: EndpointKey, query?: HistoryQuery): HistoryPoint[];
  /** Every change as it happens; returns an unsubscribe function. */
  watch(listener: (e: ChangeEvent) => void): () => void;
  /** Idempotent: registering an existing endpoint with the same fields is not an error. Throws InvalidArgumentError / NotFoundError naming the field. Resolves once it is persisted. */
  register(req: RegistrationRequest): Promise<{ created: boolean; endpoint: EndpointSnapshot }>;
  /** Idempotent. Config-file endpoints cannot be deregistered (InvalidArgumentError). */
  deregister(cluster: string, address: string, port: number): Promise<{ removed: boolean }>;
  /** Take an endpoint out of rotation (or back); survives health changes until undone. */
  drain(key: EndpointKey, drained: boolean): EndpointSnapshot;
  /** Probe an endpoint now, outside its schedule; resolves with the probe's result. */
  recheck(key: EndpointKey): Promise<{ ok: boolean; detail: string; latencyMs: number }>;
  proxies(): ProxyRecord[];
  alerts(filter?: {
    state?: AlertRecord['state'] | undefined;
    level?: AlertLevel | undefined;
    from?: number | undefined;
    to?: number | undefined;
  }): AlertRecord[];
  acknowledgeAlert(id: string, by?: string): AlertRecord;
  /** The running configuration with secrets removed. */
  config(): unknown;
  /** True once the first snapshot is published and the store is loaded. */
  ready(): boolean;
  /** What runs degraded while still serving (e.g. "etcd unreachable since …" in replicated mode); empty when nothing. */
  degraded?(): string[];
}
