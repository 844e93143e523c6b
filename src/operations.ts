/**
 * What operators can ask of a running healthmesh: the one facade the status gRPC service, the admin
 * HTTP endpoint, the CLI and the reports use. Implemented in src/app.ts over the engine, topology,
 * ledger, alerts and store; adapters depend on this interface only.
 */
import type { AlertLevel, OpenAlert } from './core/alerts.js';
import type { Decision, PublishedHealth } from './core/decide.js';
import type { CircuitState, EndpointKey, Status } from './core/model.js';
import type { ProxyRecord } from './xds/ledger.js';

export type { AlertLevel, PublishedHealth };

/** An endpoint as operators see it: the engine's decision (after the guard and any drain) plus who it is. */
export interface EndpointSnapshot extends Pick<
  Decision,
  'score' | 'status' | 'circuit' | 'health' | 'weight' | 'targetWeight' | 'weightFraction' | 'reasons' | 'flapping' | 'guarded'
> {
  key: EndpointKey;
  cluster: string;
  address: string;
  port: number;
  zone?: string | undefined;
  /** Drained by an operator (published DRAINING regardless of its health). */
  drained: boolean;
  /** `config`: declared in the config file; `runtime`: registered over the API. */
  source: 'config' | 'runtime';
  /** When its published health or weight last changed (ms since epoch). */
  changedAt: number;
  /** Expected share (0..1) of its cluster's requests through Envoy (healthmesh's model of Envoy's split). */
  expectedShare?: number | undefined;
}

export interface ClusterSnapshot {
  name: string;
  total: number;
  /** Endpoints published HEALTHY (serving at some weight). */
  healthy: number;
  failing: number;
  ejected: number;
  guarded: number;
  maxEjected: number;
  allFailing: boolean;
  /** Why the guard stepped in, when it did. */
  reason?: string | undefined;
}

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
