/**
 * An in-memory Operations for adapter tests (status gRPC service, CLI): endpoints in a map, every
 * mutation emitted as a ChangeEvent like the real app does. No health engine behind it.
 */
import { endpointKey, type EndpointKey } from '../../src/core/model.js';
import { InvalidArgumentError, NotFoundError } from '../../src/errors.js';
import type {
  AlertLevel,
  AlertRecord,
  ChangeEvent,
  ClusterSnapshot,
  EndpointSnapshot,
  HistoryPoint,
  HistoryQuery,
  Operations,
  RegistrationRequest,
  ProxyRecord,
} from '../../src/operations.js';

export type EndpointSeed = Pick<EndpointSnapshot, 'cluster' | 'address' | 'port'> & Partial<EndpointSnapshot>;

export class FakeOperations implements Operations {
  /** Every Operations method called, in order (to prove validation happens before it). */
  readonly calls: string[] = [];
  readonly historyPoints = new Map<EndpointKey, HistoryPoint[]>();
  proxyRecords: ProxyRecord[] = [];
  alertRecords: AlertRecord[] = [];
  isReady = true;
  /** When set, every method throws it (error mapping tests). */
  failWith: Error | undefined;
  private readonly clusterNames: string[];
  private readonly eps = new Map<EndpointKey, EndpointSnapshot>();
  private readonly registrations = new Map<EndpointKey, RegistrationRequest>();
  private readonly listeners = new Set<(e: ChangeEvent) => void>();

  constructor(
    clusters: string[],
    readonly now: () => number = Date.now,
  ) {
    this.clusterNames = [...clusters].sort();
  }

  get watchers(): number {
    return this.listeners.size;
  }

  /** A config-declared endpoint, healthy unless told otherwise. Emits nothing. */
  seed(s: EndpointSeed): EndpointSnapshot {
    const e = this.snapshot(s);
    this.eps.set(e.key, e);
    return e;
  }

  /** Changes an endpoint and emits the change (with its previous state) and its cluster. */
  update(key: EndpointKey, patch: Partial<EndpointSnapshot>): EndpointSnapshot {
    const before = this.eps.get(key);
    if (!before) throw new Error(`no endpoint ${key}`);
    const after = { ...before, ...patch, changedAt: this.now() };
    this.eps.set(key, after);
    this.emit({
      kind: 'endpoint',
      at: after.changedAt,
      endpoint: after,
      previous: { status: before.status, circuit: before.circuit, health: before.health, weight: before.weight },
    });
    this.emitCluster(after.cluster);
    return after;
  }

  emit(e: ChangeEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  clusters(): ClusterSnapshot[] {
    this.record('clusters');
    return this.clusterNames.map((name) => this.cluster(name));
  }

  endpoints(filter: { cluster?: string | undefined; status?: EndpointSnapshot['status'] | undefined } = {}): EndpointSnapshot[] {
    this.record('endpoints');
    return [...this.eps.values()]
      .filter((e) => (filter.cluster === undefined || e.cluster === filter.cluster) && (filter.status === undefined || e.status === filter.status))
      .map((e) => structuredClone(e));
  }

  endpoint(key: EndpointKey): EndpointSnapshot | undefined {
    this.record('endpoint');
    const e = this.eps.get(key);
    return e && structuredClone(e);
  }

  history(key: EndpointKey, query: HistoryQuery = {}): HistoryPoint[] {
    this.record('history');
    const points = (this.historyPoints.get(key) ?? []).filter(
      (p) => (query.from === undefined || p.at >= query.from) && (query.to === undefined || p.at <= query.to),
    );
    return query.limit === undefined ? points : points.slice(-query.limit);
  }

  watch(listener: (e: ChangeEvent) => void): () => void {
    this.record('watch');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async register(req: RegistrationRequest): Promise<{ created: boolean; endpoint: EndpointSnapshot }> {
    this.record('register');
    if (!this.clusterNames.includes(req.cluster)) throw new NotFoundError(`cluster "${req.cluster}"`);
    const key = endpointKey(req.cluster, req.address, req.port);
    const existing = this.eps.get(key);
    if (existing?.source === 'config') throw new InvalidArgumentError('address', `${key} is declared in the configuration file`);
    const same = existing && JSON.stringify(this.registrations.get(key)) === JSON.stringify(req);
    if (existing && same) return { created: false, endpoint: structuredClone(existing) };
    const endpoint = this.snapshot({
      ...existing,
      cluster: req.cluster,
      address: req.address,
      port: req.port,
      zone: req.zone,
      targetWeight: req.weight ?? 1,
      weight: req.weight ?? 1,
      source: 'runtime',
      changedAt: this.now(),
    });
    this.eps.set(key, endpoint);
    this.registrations.set(key, req);
    this.emit({ kind: 'endpoint', at: endpoint.changedAt, endpoint });
    this.emitCluster(req.cluster);
    return { created: !existing, endpoint: structuredClone(endpoint) };
  }

  async deregister(cluster: string, address: string, port: number): Promise<{ removed: boolean }> {
    this.record('deregister');
    if (!this.clusterNames.includes(cluster)) throw new NotFoundError(`cluster "${cluster}"`);
    const key = endpointKey(cluster, address, port);
    const e = this.eps.get(key);
    if (!e) return { removed: false };
    if (e.source === 'config') throw new InvalidArgumentError('address', `${key} is declared in the configuration file and cannot be deregistered`);
    this.eps.delete(key);
    this.registrations.delete(key);
    this.emit({ kind: 'endpoint-removed', at: this.now(), key, cluster });
    this.emitCluster(cluster);
    return { removed: true };
  }

  drain(key: EndpointKey, drained: boolean): EndpointSnapshot {
    this.record('drain');
    if (!this.eps.has(key)) throw new NotFoundError(`endpoint "${key}"`);
    return this.update(key, { drained, health: drained ? 'DRAINING' : 'HEALTHY' });
  }

  async recheck(key: EndpointKey): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
    this.record('recheck');
    if (!this.eps.has(key)) throw new NotFoundError(`endpoint "${key}"`);
    return { ok: true, detail: 'fake', latencyMs: 0 };
  }

  proxies(): ProxyRecord[] {
    this.record('proxies');
    return structuredClone(this.proxyRecords);
  }

  alerts(
    filter: { state?: AlertRecord['state'] | undefined; level?: AlertLevel | undefined; from?: number | undefined; to?: number | undefined } = {},
  ): AlertRecord[] {
    this.record('alerts');
    return this.alertRecords.filter(
      (a) =>
        (filter.state === undefined || a.state === filter.state) &&
        (filter.level === undefined || a.level === filter.level) &&
        (filter.from === undefined || a.firedAt >= filter.from) &&
        (filter.to === undefined || a.firedAt <= filter.to),
    );
  }

  acknowledgeAlert(id: string, by?: string): AlertRecord {
    this.record('acknowledgeAlert');
    const a = this.alertRecords.find((x) => x.id === id);
    if (!a) throw new NotFoundError(`alert "${id}"`);
    a.acknowledgedAt = this.now();
    a.acknowledgedBy = by;
    return a;
  }

  config(): unknown {
    this.record('config');
    return {};
  }

  ready(): boolean {
    return this.isReady;
  }

  private record(method: string): void {
    this.calls.push(method);
    if (this.failWith) throw this.failWith;
  }

  private emitCluster(name: string): void {
    this.emit({ kind: 'cluster', at: this.now(), cluster: this.cluster(name) });
  }

  private cluster(name: string): ClusterSnapshot {
    const mine = [...this.eps.values()].filter((e) => e.cluster === name);
    const failing = mine.filter((e) => e.status === 'UNHEALTHY').length;
    const ejected = mine.filter((e) => e.health === 'UNHEALTHY').length;
    return {
      name,
      total: mine.length,
      healthy: mine.filter((e) => e.health === 'HEALTHY').length,
      failing,
      ejected,
      guarded: mine.filter((e) => e.guarded).length,
      maxEjected: Math.floor(mine.length / 2),
      allFailing: mine.length > 0 && failing === mine.length,
    };
  }

  private snapshot(s: EndpointSeed): EndpointSnapshot {
    const targetWeight = s.targetWeight ?? 100;
    const weight = s.weight ?? targetWeight;
    return {
      key: endpointKey(s.cluster, s.address, s.port),
      cluster: s.cluster,
      address: s.address,
      port: s.port,
      zone: s.zone,
      score: s.score ?? 100,
      status: s.status ?? 'HEALTHY',
      circuit: s.circuit ?? 'closed',
      health: s.health ?? 'HEALTHY',
      weight,
      targetWeight,
      weightFraction: s.weightFraction ?? (targetWeight > 0 ? weight / targetWeight : 0),
      reasons: s.reasons ?? [],
      flapping: s.flapping ?? false,
      guarded: s.guarded ?? false,
      drained: s.drained ?? false,
      source: s.source ?? 'config',
      changedAt: s.changedAt ?? this.now(),
      ...(s.expectedShare === undefined ? {} : { expectedShare: s.expectedShare }),
    };
  }
}
