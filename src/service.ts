import type { AlertManager } from './alerts/manager.js';
import type { RunCheck } from './checks/types.js';
import { policyFor } from './config/address-policy.js';
import { checkEndpointCapacity, endpointIssues, validateRegistration } from './config/endpoint-rules.js';
import { redactConfig } from './config/redact.js';
import type { Config } from './config/schema.js';
import { endpointKey, type EndpointKey, type ProbeOutcome, type Status } from './core/model.js';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import type { HealthEngine } from './health/engine.js';
import type { Membership } from './membership/registry.js';
import {
  emptyClusterSnapshot,
  endpointSnapshot,
  type AlertRecord,
  type ChangeEvent,
  type ClusterSnapshot,
  type EndpointHealth,
  type EndpointSnapshot,
  type HistoryPoint,
  type HistoryQuery,
  type Operations,
  type ProxyRecord,
  type RegistrationRequest,
} from './operations.js';
import { RegistrationWriter } from './store/registration-writer.js';
import type { Store, StoredRegistration } from './store/types.js';
import type { Ledger } from './xds/ledger.js';

export interface ServiceDeps {
  config: () => Readonly<Config>;
  engine: HealthEngine;
  membership: Membership;
  ledger: Ledger;
  alerts: AlertManager;
  store: Store;
  /** Runs one check now (for re-checks). */
  runCheck: RunCheck;
  /** Feed an on-demand probe result back like a scheduled one. */
  onProbe: (id: string, outcome: ProbeOutcome) => void;
  ready: () => boolean;
  now?: () => number;
  /** Replicated mode: registrations and drains are shared through etcd (src/replication/wiring.ts). */
  replica?: RegistrationReplica;
  /** What runs degraded while still serving (etcd unreachable). */
  degraded?: () => string[];
}

/**
 * Where registrations go in replicated mode instead of the local store: `put`/`delete` resolve once etcd
 * has committed them (a registration is acknowledged only then); every replica, this one included,
 * applies them from its watch through `applyRegistration` / `applyDeregistration`.
 */
export interface RegistrationReplica {
  put(registration: StoredRegistration): Promise<void>;
  delete(key: EndpointKey): Promise<void>;
  /** Share an operator's drain (applied locally at once; best effort to the other replicas). */
  drain(key: EndpointKey, drained: boolean): void;
}

/** Every configured cluster's summary, in config order (what the operations and the alert input read). */
export function clusterSnapshots(config: Readonly<Config>, engine: Pick<HealthEngine, 'clusterSummary'>): ClusterSnapshot[] {
  return config.clusters.map((c) => clusterSnapshot(engine, c.name));
}

function clusterSnapshot(engine: Pick<HealthEngine, 'clusterSummary'>, name: string): ClusterSnapshot {
  const s = engine.clusterSummary(name);
  return s ? { ...s.verdict, name, total: s.total, healthy: s.healthy } : emptyClusterSnapshot(name);
}

/** Operations over the running parts: what the status service, the admin endpoint and reports call. */
export class HealthmeshService implements Operations {
  private readonly runtime = new Map<EndpointKey, StoredRegistration>();
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  private readonly now: () => number;
  private readonly writer: RegistrationWriter;

  constructor(private readonly deps: ServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.writer = new RegistrationWriter(deps.store);
    deps.engine.onEvent((e) => {
      if (e.kind === 'endpoint')
        this.emit({
          kind: 'endpoint',
          at: e.at,
          endpoint: this.snapshot(e.endpoint),
          previous: e.previous && { status: e.previous.status, circuit: e.previous.circuit, health: e.previous.health, weight: e.previous.weight },
        });
      else if (e.kind === 'removed') this.emit({ kind: 'endpoint-removed', at: e.at, key: e.key, cluster: e.cluster });
      else
        this.emit({
          kind: 'cluster',
          at: e.at,
          cluster: clusterSnapshot(deps.engine, e.cluster),
        });
    });
    deps.alerts.onAlert((alert) => this.emit({ kind: 'alert', at: this.now(), alert }));
  }

  /** Re-apply persisted registrations to the membership (before the engine starts). */
  restoreRegistrations(): number {
    let n = 0;
    const policy = policyFor(this.deps.config().health.allowTargets);
    for (const r of this.deps.store.registrations()) {
      if (!this.deps.membership.hasCluster(r.cluster)) continue;
      // Stored by an older version (e.g. a host name): publishing it would have Envoy NACK the cluster.
      if (endpointIssues(r, policy, 'string').length > 0) continue;
      this.runtime.set(endpointKey(r.cluster, r.address, r.port), r);
      this.deps.membership.upsert(memberOf(r));
      n++;
    }
    return n;
  }

  clusters(): ClusterSnapshot[] {
    return clusterSnapshots(this.deps.config(), this.deps.engine);
  }

  endpoints(filter: { cluster?: string | undefined; status?: Status | undefined } = {}): EndpointSnapshot[] {
    if (filter.cluster && !this.deps.config().clusters.some((c) => c.name === filter.cluster)) throw new NotFoundError(`cluster "${filter.cluster}"`);
    return this.deps.engine
      .endpoints(filter.cluster)
      .map((e) => this.snapshot(e))
      .filter((e) => !filter.status || e.status === filter.status);
  }

  endpoint(key: EndpointKey): EndpointSnapshot | undefined {
    const e = this.deps.engine.endpoint(key);
    return e && this.snapshot(e);
  }

  history(key: EndpointKey, query: HistoryQuery = {}): HistoryPoint[] {
    return this.deps.store.history(key, query);
  }

  watch(listener: (e: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async register(req: RegistrationRequest): Promise<{ created: boolean; endpoint: EndpointSnapshot }> {
    const cluster = this.deps.config().clusters.find((c) => c.name === req.cluster);
    if (!req.cluster) throw new InvalidArgumentError('cluster', 'required');
    if (!cluster) throw new NotFoundError(`cluster "${req.cluster}"`);
    validateRegistration(req, policyFor(this.deps.config().health.allowTargets));
    const key = endpointKey(req.cluster, req.address, req.port);
    if (cluster.endpoints.some((e) => e.address === req.address && e.port === req.port)) {
      throw new InvalidArgumentError(
        'address',
        `${req.address}:${req.port} is declared in the config file for cluster ${req.cluster}; it cannot be registered again`,
      );
    }
    const existing = this.runtime.get(key);
    if (!existing) {
      const configured = this.deps.config().clusters.reduce((n, c) => n + c.endpoints.length, 0);
      checkEndpointCapacity(this.runtime.size + configured, this.deps.config().limits.maxEndpoints);
    }
    const reg: StoredRegistration = {
      cluster: req.cluster,
      address: req.address,
      port: req.port,
      weight: req.weight ?? 1,
      zone: req.zone,
      region: req.region,
      metadata: req.metadata,
      registeredAt: existing?.registeredAt ?? this.now(),
    };
    const same = existing && JSON.stringify({ ...existing, registeredAt: 0 }) === JSON.stringify({ ...reg, registeredAt: 0 });
    if (!same) {
      if (this.deps.replica) await this.deps.replica.put(reg);
      else await this.writer.write({ kind: 'put', registration: reg });
      this.runtime.set(key, reg);
      this.deps.membership.upsert(memberOf(reg));
    }
    return { created: !existing, endpoint: this.endpoint(key)! };
  }

  async deregister(cluster: string, address: string, port: number): Promise<{ removed: boolean }> {
    const c = this.deps.config().clusters.find((x) => x.name === cluster);
    if (!c) throw new NotFoundError(`cluster "${cluster}"`);
    if (c.endpoints.some((e) => e.address === address && e.port === port)) {
      throw new InvalidArgumentError('address', `${address}:${port} is declared in the config file; remove it there`);
    }
    const key = endpointKey(cluster, address, port);
    if (!this.runtime.has(key)) return { removed: false };
    if (this.deps.replica) await this.deps.replica.delete(key);
    else await this.writer.write({ kind: 'delete', cluster, address, port });
    this.runtime.delete(key);
    this.deps.membership.remove(cluster, address, port);
    return { removed: true };
  }

  drain(key: EndpointKey, drained: boolean): EndpointSnapshot {
    const out = this.snapshot(this.deps.engine.setDrained(key, drained));
    this.deps.replica?.drain(key, drained);
    return out;
  }

  /**
   * Replicated mode: a registration as etcd has it (made through any replica). Returns false, changing
   * nothing, for an unknown cluster or an address this replica's config would refuse.
   */
  applyRegistration(r: StoredRegistration): boolean {
    if (!this.deps.membership.hasCluster(r.cluster)) return false;
    if (endpointIssues(r, policyFor(this.deps.config().health.allowTargets), 'string').length > 0) return false;
    const cluster = this.deps.config().clusters.find((c) => c.name === r.cluster);
    if (cluster?.endpoints.some((e) => e.address === r.address && e.port === r.port)) return false;
    this.runtime.set(endpointKey(r.cluster, r.address, r.port), r);
    this.deps.membership.upsert(memberOf(r));
    return true;
  }

  /** Replicated mode: a registration deleted in etcd. */
  applyDeregistration(key: EndpointKey): boolean {
    const r = this.runtime.get(key);
    if (!r) return false;
    this.runtime.delete(key);
    if (this.deps.membership.hasCluster(r.cluster)) this.deps.membership.remove(r.cluster, r.address, r.port);
    return true;
  }

  async recheck(key: EndpointKey): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
    if (!this.deps.engine.endpoint(key)) throw new NotFoundError(`endpoint "${key}"`);
    const job = this.deps.engine.probeJob(key);
    if (!job) throw new InvalidArgumentError('endpoint', `${key} has no active health check`);
    const result = await this.deps.runCheck(job.target, job.check, { timeoutMs: job.timeoutMs });
    this.deps.onProbe(key, { at: this.now(), ok: result.ok, latencyMs: result.latencyMs, detail: result.detail, timedOut: result.timedOut });
    return { ok: result.ok, detail: result.detail, latencyMs: result.latencyMs };
  }

  proxies(): ProxyRecord[] {
    return this.deps.ledger.proxies();
  }

  alerts(filter: Parameters<Operations['alerts']>[0] = {}): AlertRecord[] {
    return this.deps.alerts.list(filter);
  }

  acknowledgeAlert(id: string, by?: string): AlertRecord {
    return this.deps.alerts.acknowledge(id, by);
  }

  config(): unknown {
    return redactConfig(this.deps.config());
  }

  ready(): boolean {
    return this.deps.ready();
  }

  degraded(): string[] {
    return this.deps.degraded?.() ?? [];
  }

  /**
   * Every endpoint as a history point, for the recorder. An endpoint awaiting its first check (warming) has
   * no health yet and is not recorded: reports must not count a start-up as an incident.
   */
  historyPoints(at: number, keys?: Iterable<EndpointKey>): HistoryPoint[] {
    const list = keys ? [...keys].flatMap((k) => this.deps.engine.endpoint(k) ?? []) : this.deps.engine.endpoints();
    return list
      .filter((e) => !e.decision.warming)
      .map((e) => {
        const m = this.deps.engine.metrics(e.key) ?? {};
        return {
          key: e.key,
          cluster: e.cluster,
          at,
          score: e.decision.score,
          status: e.decision.status,
          circuit: e.decision.circuit,
          health: e.decision.health,
          weight: e.decision.weight,
          ...m,
          reasons: e.decision.reasons.length ? e.decision.reasons : undefined,
        };
      });
  }

  private snapshot(e: EndpointHealth): EndpointSnapshot {
    return endpointSnapshot(e, this.runtime.has(e.key) ? 'runtime' : 'config');
  }

  private emit(e: ChangeEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a failing watcher must not break the others
      }
    }
  }
}

function memberOf(r: StoredRegistration): Parameters<Membership['upsert']>[0] {
  return { cluster: r.cluster, address: r.address, port: r.port, weight: r.weight, zone: r.zone, region: r.region, metadata: r.metadata };
}
