/**
 * The one in-memory Operations for adapter tests (status gRPC service, CLI, admin HTTP, metrics, reports):
 * endpoints in a map, every mutation emitted as a ChangeEvent like the real app does, every call recorded
 * (names in order, arguments per method), injectable failures. No health engine behind it.
 */
import { endpointKey, type EndpointKey, type Status } from '../../src/core/model.js';
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

export interface FakeOperationsOptions {
  /** Declared clusters (registration needs one); clusters of the endpoints are known too. */
  clusters?: string[];
  /** Initial endpoints, as they are (see `fakeEndpoint`). */
  endpoints?: EndpointSnapshot[];
  now?: () => number;
}

/** A complete endpoint snapshot with fixed, readable defaults (weight 10, changed at 1_700_000_000_000). */
export function fakeEndpoint(cluster: string, address: string, port: number, over: Partial<EndpointSnapshot> = {}): EndpointSnapshot {
  return {
    key: endpointKey(cluster, address, port),
    cluster,
    address,
    port,
    score: 100,
    status: 'HEALTHY',
    circuit: 'closed',
    health: 'HEALTHY',
    weight: 10,
    targetWeight: 10,
    weightFraction: 1,
    reasons: [],
    flapping: false,
    guarded: false,
    drained: false,
    source: 'config',
    changedAt: 1_700_000_000_000,
    ...over,
  };
}

export function fakeProxy(streamId: string, protocol: 'sotw' | 'delta', over: Partial<ProxyRecord> = {}): ProxyRecord {
  return { streamId, nodeId: `node-${streamId}`, protocol, peer: 'ipv4:127.0.0.1:50000', connectedAt: 1_700_000_000_000, types: {}, unknownTypes: [], ...over };
}

export function fakeAlert(id: string, level: AlertLevel, over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id,
    rule: 'endpointUnhealthy',
    level,
    subject: 'web/10.0.0.1:8080',
    cluster: 'web',
    message: `alert ${id}`,
    state: 'firing',
    firedAt: 1_700_000_000_000,
    lastSeenAt: 1_700_000_000_000,
    count: 1,
    ...over,
  };
}

export class FakeOperations implements Operations {
  readonly endpointMap = new Map<EndpointKey, EndpointSnapshot>();
  readonly historyMap = new Map<EndpointKey, HistoryPoint[]>();
  proxyList: ProxyRecord[] = [];
  alertList: AlertRecord[] = [];
  isReady = true;
  configValue: unknown = {};
  /** Every Operations method called, in order (to prove validation happens before it). */
  readonly calls: string[] = [];
  /** The arguments of the calls the admin and metrics tests look at. */
  readonly args = {
    drain: [] as Array<{ key: EndpointKey; drained: boolean }>,
    recheck: [] as EndpointKey[],
    ack: [] as Array<{ id: string; by: string | undefined }>,
    endpoints: [] as Array<{ cluster?: string | undefined; status?: Status | undefined } | undefined>,
    history: [] as Array<{ key: EndpointKey; query: HistoryQuery | undefined }>,
    alerts: [] as Array<Parameters<Operations['alerts']>[0]>,
  };
  /** When set, every method but ready() throws it (error mapping tests). */
  failWith: Error | undefined;
  /** Methods that throw this error instead of answering. */
  readonly failures = new Map<keyof Operations, Error>();
  /** What recheck() answers. */
  recheckResult = { ok: true, detail: 'HTTP 200', latencyMs: 3 };
  readonly now: () => number;
  private readonly declared: string[];
  private readonly registrations = new Map<EndpointKey, RegistrationRequest>();
  private readonly listeners = new Set<(e: ChangeEvent) => void>();

  constructor(opts: FakeOperationsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.declared = [...(opts.clusters ?? [])];
    for (const e of opts.endpoints ?? []) this.endpointMap.set(e.key, e);
  }

  get watchers(): number {
    return this.listeners.size;
  }

  /** An endpoint with defaults (healthy, weight 100, changed now). Emits nothing. */
  seed(s: EndpointSeed): EndpointSnapshot {
    const e = this.snapshot(s);
    this.endpointMap.set(e.key, e);
    return e;
  }

  /** Changes an endpoint and emits the change (with its previous state) and its cluster. */
  update(key: EndpointKey, patch: Partial<EndpointSnapshot>): EndpointSnapshot {
    const before = this.endpointMap.get(key);
    if (!before) throw new Error(`no endpoint ${key}`);
    const after = { ...before, ...patch, changedAt: this.now() };
    this.endpointMap.set(key, after);
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
    return this.clusterNames().map((name) => this.cluster(name));
  }

  endpoints(filter?: { cluster?: string | undefined; status?: Status | undefined }): EndpointSnapshot[] {
    this.record('endpoints');
    this.args.endpoints.push(filter);
    return [...this.endpointMap.values()]
      .filter((e) => (filter?.cluster === undefined || e.cluster === filter.cluster) && (filter?.status === undefined || e.status === filter.status))
      .map((e) => structuredClone(e));
  }

  endpoint(key: EndpointKey): EndpointSnapshot | undefined {
    this.record('endpoint');
    const e = this.endpointMap.get(key);
    return e && structuredClone(e);
  }

  history(key: EndpointKey, query?: HistoryQuery): HistoryPoint[] {
    this.record('history');
    this.args.history.push({ key, query });
    const points = (this.historyMap.get(key) ?? []).filter(
      (p) => (query?.from === undefined || p.at >= query.from) && (query?.to === undefined || p.at <= query.to),
    );
    return query?.limit === undefined ? points : points.slice(-query.limit);
  }

  watch(listener: (e: ChangeEvent) => void): () => void {
    this.record('watch');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async register(req: RegistrationRequest): Promise<{ created: boolean; endpoint: EndpointSnapshot }> {
    this.record('register');
    if (!this.clusterNames().includes(req.cluster)) throw new NotFoundError(`cluster "${req.cluster}"`);
    const key = endpointKey(req.cluster, req.address, req.port);
    const existing = this.endpointMap.get(key);
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
    this.endpointMap.set(key, endpoint);
    this.registrations.set(key, req);
    this.emit({ kind: 'endpoint', at: endpoint.changedAt, endpoint });
    this.emitCluster(req.cluster);
    return { created: !existing, endpoint: structuredClone(endpoint) };
  }

  async deregister(cluster: string, address: string, port: number): Promise<{ removed: boolean }> {
    this.record('deregister');
    if (!this.clusterNames().includes(cluster)) throw new NotFoundError(`cluster "${cluster}"`);
    const key = endpointKey(cluster, address, port);
    const e = this.endpointMap.get(key);
    if (!e) return { removed: false };
    if (e.source === 'config') throw new InvalidArgumentError('address', `${key} is declared in the configuration file and cannot be deregistered`);
    this.endpointMap.delete(key);
    this.registrations.delete(key);
    this.emit({ kind: 'endpoint-removed', at: this.now(), key, cluster });
    this.emitCluster(cluster);
    return { removed: true };
  }

  drain(key: EndpointKey, drained: boolean): EndpointSnapshot {
    this.record('drain');
    this.args.drain.push({ key, drained });
    if (!this.endpointMap.has(key)) throw new NotFoundError(`endpoint "${key}"`);
    return this.update(key, { drained, health: drained ? 'DRAINING' : 'HEALTHY' });
  }

  async recheck(key: EndpointKey): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
    this.record('recheck');
    this.args.recheck.push(key);
    if (!this.endpointMap.has(key)) throw new NotFoundError(`endpoint "${key}"`);
    return { ...this.recheckResult };
  }

  proxies(): ProxyRecord[] {
    this.record('proxies');
    return structuredClone(this.proxyList);
  }

  alerts(filter?: Parameters<Operations['alerts']>[0]): AlertRecord[] {
    this.record('alerts');
    this.args.alerts.push(filter);
    return this.alertList.filter(
      (a) =>
        (filter?.state === undefined || a.state === filter.state) &&
        (filter?.level === undefined || a.level === filter.level) &&
        (filter?.from === undefined || a.firedAt >= filter.from) &&
        (filter?.to === undefined || a.firedAt <= filter.to),
    );
  }

  acknowledgeAlert(id: string, by?: string): AlertRecord {
    this.record('acknowledgeAlert');
    this.args.ack.push({ id, by });
    const a = this.alertList.find((x) => x.id === id);
    if (!a) throw new NotFoundError(`alert "${id}"`);
    a.acknowledgedAt = this.now();
    a.acknowledgedBy = by;
    return a;
  }

  config(): unknown {
    this.record('config');
    return this.configValue;
  }

  ready(): boolean {
    const err = this.failures.get('ready');
    if (err) throw err;
    return this.isReady;
  }

  private record(method: keyof Operations): void {
    this.calls.push(method);
    const err = this.failures.get(method) ?? this.failWith;
    if (err) throw err;
  }

  private clusterNames(): string[] {
    return [...new Set([...this.declared, ...[...this.endpointMap.values()].map((e) => e.cluster)])].sort();
  }

  private emitCluster(name: string): void {
    this.emit({ kind: 'cluster', at: this.now(), cluster: this.cluster(name) });
  }

  private cluster(name: string): ClusterSnapshot {
    const mine = [...this.endpointMap.values()].filter((e) => e.cluster === name);
    const failing = mine.filter((e) => e.status === 'UNHEALTHY').length;
    return {
      name,
      total: mine.length,
      healthy: mine.filter((e) => e.health === 'HEALTHY').length,
      failing,
      ejected: mine.filter((e) => e.health === 'UNHEALTHY').length,
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

/** A small, varied fleet: two clusters, an empty one, every status and circuit state (admin and metrics tests). */
export function seededOperations(): FakeOperations {
  const ops = new FakeOperations({
    clusters: ['batch'],
    now: () => 1_700_000_001_000,
    endpoints: [
      fakeEndpoint('web', '10.0.0.1', 8080),
      fakeEndpoint('web', '10.0.0.2', 8080, {
        score: 55,
        status: 'DEGRADED',
        circuit: 'half-open',
        weight: 3,
        reasons: ['p99 1.8s > 500ms'],
        expectedShare: 0.03,
      }),
      fakeEndpoint('web', '10.0.0.3', 8080, { score: 0, status: 'UNHEALTHY', circuit: 'open', health: 'UNHEALTHY', weight: 0 }),
      fakeEndpoint('api', '10.0.1.1', 9000, { guarded: true, status: 'UNHEALTHY', circuit: 'open', score: 10 }),
    ],
  });
  ops.configValue = { admin: { listen: '127.0.0.1:9090', token: '[redacted]' }, clusters: [{ name: 'web' }] };
  ops.historyMap.set(
    'web/10.0.0.1:8080',
    [1, 2, 3].map((i) => ({
      key: 'web/10.0.0.1:8080',
      cluster: 'web',
      at: 1_700_000_000_000 + i * 1000,
      score: 100,
      status: 'HEALTHY' as const,
      circuit: 'closed' as const,
      health: 'HEALTHY' as const,
      weight: 10,
    })),
  );
  ops.proxyList = [fakeProxy('1', 'sotw'), fakeProxy('2', 'delta'), fakeProxy('3', 'delta'), fakeProxy('4', 'sotw', { closedAt: 1_700_000_005_000 })];
  ops.alertList = [fakeAlert('a1', 'warning'), fakeAlert('a2', 'critical'), fakeAlert('a3', 'info', { state: 'resolved', resolvedAt: 1_700_000_009_000 })];
  return ops;
}
