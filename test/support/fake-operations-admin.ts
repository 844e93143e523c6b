/** An in-memory Operations for admin and metrics tests: seeded state, recorded mutations, injectable failures. */
import { endpointKey, type EndpointKey, type Status } from '../../src/core/model.js';
import { NotFoundError } from '../../src/errors.js';
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
  configValue: unknown = { admin: { listen: '127.0.0.1:9090', token: '[redacted]' }, clusters: [{ name: 'web' }] };
  /** Extra clusters with no endpoints. */
  emptyClusters: string[] = [];

  readonly calls = {
    drain: [] as Array<{ key: EndpointKey; drained: boolean }>,
    recheck: [] as EndpointKey[],
    ack: [] as Array<{ id: string; by: string | undefined }>,
    endpoints: [] as Array<{ cluster?: string | undefined; status?: Status | undefined } | undefined>,
    history: [] as Array<{ key: EndpointKey; query: HistoryQuery | undefined }>,
    alerts: [] as Array<Parameters<Operations['alerts']>[0]>,
  };
  /** Methods that throw this error instead of answering. */
  readonly failures = new Map<keyof Operations, Error>();

  constructor(endpoints: EndpointSnapshot[] = []) {
    for (const e of endpoints) this.endpointMap.set(e.key, e);
  }

  private fail(method: keyof Operations): void {
    const err = this.failures.get(method);
    if (err) throw err;
  }

  clusters(): ClusterSnapshot[] {
    this.fail('clusters');
    const names = [...new Set([...[...this.endpointMap.values()].map((e) => e.cluster), ...this.emptyClusters])].sort();
    return names.map((name) => {
      const eps = [...this.endpointMap.values()].filter((e) => e.cluster === name);
      const ejected = eps.filter((e) => e.health === 'UNHEALTHY').length;
      return {
        name,
        total: eps.length,
        healthy: eps.filter((e) => e.health === 'HEALTHY').length,
        failing: eps.filter((e) => e.status !== 'HEALTHY').length,
        ejected,
        guarded: eps.filter((e) => e.guarded).length,
        maxEjected: Math.floor(eps.length / 2),
        allFailing: eps.length > 0 && eps.every((e) => e.status === 'UNHEALTHY'),
      };
    });
  }

  endpoints(filter?: { cluster?: string | undefined; status?: Status | undefined }): EndpointSnapshot[] {
    this.fail('endpoints');
    this.calls.endpoints.push(filter);
    return [...this.endpointMap.values()].filter((e) => (!filter?.cluster || e.cluster === filter.cluster) && (!filter?.status || e.status === filter.status));
  }

  endpoint(key: EndpointKey): EndpointSnapshot | undefined {
    this.fail('endpoint');
    return this.endpointMap.get(key);
  }

  history(key: EndpointKey, query?: HistoryQuery): HistoryPoint[] {
    this.fail('history');
    this.calls.history.push({ key, query });
    const points = this.historyMap.get(key) ?? [];
    const inRange = points.filter((p) => (query?.from === undefined || p.at >= query.from) && (query?.to === undefined || p.at <= query.to));
    return query?.limit === undefined ? inRange : inRange.slice(-query.limit);
  }

  watch(_listener: (e: ChangeEvent) => void): () => void {
    return () => undefined;
  }

  async register(_req: RegistrationRequest): Promise<{ created: boolean; endpoint: EndpointSnapshot }> {
    throw new Error('not used by the admin server');
  }

  async deregister(): Promise<{ removed: boolean }> {
    throw new Error('not used by the admin server');
  }

  drain(key: EndpointKey, drained: boolean): EndpointSnapshot {
    this.fail('drain');
    this.calls.drain.push({ key, drained });
    const e = this.endpointMap.get(key);
    if (!e) throw new NotFoundError(`endpoint ${key}`);
    const next: EndpointSnapshot = { ...e, drained, health: drained ? 'DRAINING' : 'HEALTHY' };
    this.endpointMap.set(key, next);
    return next;
  }

  async recheck(key: EndpointKey): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
    this.fail('recheck');
    this.calls.recheck.push(key);
    return { ok: true, detail: 'HTTP 200', latencyMs: 3 };
  }

  proxies(): ProxyRecord[] {
    this.fail('proxies');
    return this.proxyList;
  }

  alerts(filter?: Parameters<Operations['alerts']>[0]): AlertRecord[] {
    this.fail('alerts');
    this.calls.alerts.push(filter);
    return this.alertList.filter(
      (a) =>
        (!filter?.state || a.state === filter.state) &&
        (!filter?.level || a.level === filter.level) &&
        (filter?.from === undefined || a.firedAt >= filter.from) &&
        (filter?.to === undefined || a.firedAt <= filter.to),
    );
  }

  acknowledgeAlert(id: string, by?: string): AlertRecord {
    this.fail('acknowledgeAlert');
    this.calls.ack.push({ id, by });
    const a = this.alertList.find((x) => x.id === id);
    if (!a) throw new NotFoundError(`alert ${id}`);
    a.acknowledgedAt = 1_700_000_001_000;
    a.acknowledgedBy = by;
    return a;
  }

  config(): unknown {
    this.fail('config');
    return this.configValue;
  }

  ready(): boolean {
    this.fail('ready');
    return this.isReady;
  }
}

/** A small, varied fleet: two clusters, an empty one, every status and circuit state. */
export function seededOperations(): FakeOperations {
  const ops = new FakeOperations([
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
  ]);
  ops.emptyClusters = ['batch'];
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

export interface ExpositionSample {
  name: string;
  /** The family (`# TYPE`) the sample belongs to. */
  family: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  families: Map<string, { type: string; help: string }>;
  samples: ExpositionSample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
/** As Prometheus reads values (Go's ParseFloat: NaN and Inf in any case; prom-client writes `Nan`). */
const VALUE = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|[-+]?inf)$/i;

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m || m[1] === undefined || m[2] === undefined) throw new Error(`line ${line}: bad labels {${text}}`);
    if (m[1] in labels) throw new Error(`line ${line}: duplicate label ${m[1]}`);
    labels[m[1]] = m[2].replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    pos = re.lastIndex;
  }
  return labels;
}

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line is a HELP, a TYPE or a
 * sample (empty lines are ignored); every sample belongs to a family declared by a preceding `# TYPE` (histogram samples as
 * `_bucket` with `le`, `_sum`, `_count`); no family is declared twice.
 */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, { type: string; help: string }>();
  const helps = new Map<string, string>();
  const samples: ExpositionSample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return; // the format ignores empty lines (prom-client separates families with one)
    const help = HELP_LINE.exec(raw);
    if (help?.[1]) {
      helps.set(help[1], help[2] ?? '');
      return;
    }
    const type = TYPE_LINE.exec(raw);
    if (type?.[1] && type[2]) {
      if (families.has(type[1])) throw new Error(`line ${n}: family ${type[1]} declared twice`);
      families.set(type[1], { type: type[2], help: helps.get(type[1]) ?? '' });
      return;
    }
    if (raw.startsWith('#')) throw new Error(`line ${n}: unexpected comment ${raw}`);
    const m = SAMPLE_LINE.exec(raw);
    if (!m?.[1] || m[3] === undefined) throw new Error(`line ${n}: not a sample: ${raw}`);
    if (!VALUE.test(m[3])) throw new Error(`line ${n}: bad value ${m[3]}`);
    const name = m[1];
    const labels = parseLabels(m[2] ?? '', n);
    const family = familyOf(name, labels, families);
    if (!family) throw new Error(`line ${n}: sample ${name} has no # TYPE family`);
    samples.push({ name, family, labels, value: /nan/i.test(m[3]) ? Number.NaN : Number(m[3].replace(/inf$/i, 'Infinity')) });
  });
  return { families, samples };
}

function familyOf(name: string, labels: Record<string, string>, families: Map<string, { type: string }>): string | undefined {
  const direct = families.get(name);
  if (direct && direct.type !== 'histogram') return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const f = families.get(base);
    if (!f || (f.type !== 'histogram' && f.type !== 'summary')) continue;
    if (suffix === '_bucket' && (f.type !== 'histogram' || labels.le === undefined)) return undefined;
    return base;
  }
  return undefined;
}
