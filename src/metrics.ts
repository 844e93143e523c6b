/**
 * Prometheus metrics: one prom-client Registry per instance, default Node process metrics, gauges
 * computed from the Operations facade at scrape time, and counters/histograms fed by events the
 * composition root forwards (probes, pushes, ledger ACK/NACKs, alerts).
 *
 * Label cardinality is bounded: label values are either fixed enums or cluster / endpoint names that
 * come from validated configuration and registrations, and per-endpoint series are dropped (in
 * favour of per-cluster aggregates, with `healthmesh_metrics_truncated 1`) beyond a cap.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CircuitState, ProbeOutcome, Status } from './core/model.js';
import type { AlertLevel, ClusterSnapshot, EndpointSnapshot, Operations } from './operations.js';
import type { LedgerEvent } from './xds/ledger.js';

export type ProbeKind = 'http' | 'tcp' | 'grpc' | 'custom' | 'dependency';
export type ProbeResult = 'ok' | 'fail' | 'timeout';
export type XdsTypeShort = 'cds' | 'eds' | 'lds' | 'rds';

export const PROBE_KINDS: readonly ProbeKind[] = ['http', 'tcp', 'grpc', 'custom', 'dependency'];
export const PROBE_RESULTS: readonly ProbeResult[] = ['ok', 'fail', 'timeout'];
export const XDS_TYPES: readonly XdsTypeShort[] = ['cds', 'eds', 'lds', 'rds'];
export const ALERT_LEVELS: readonly AlertLevel[] = ['info', 'warning', 'critical'];
export const STATUSES: readonly Status[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY'];
export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];
export const STREAM_PROTOCOLS = ['sotw', 'delta'] as const;

export const DEFAULT_MAX_ENDPOINT_SERIES = 5000;
/** Resolution of the event-loop delay histogram behind the nodejs_eventloop_lag_* metrics. */
export const EVENT_LOOP_MONITORING_MS = 250;

export interface MetricsOptions {
  /** Where to register; a fresh Registry when omitted. */
  registry?: Registry;
  prefix?: 'healthmesh_';
  /** Above this many endpoints, per-endpoint series are not exported (cluster aggregates only). */
  maxEndpointSeries?: number;
  /** Node process metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
}

export interface HealthmeshMetrics {
  readonly registry: Registry;
  /** Content type of `text()`: Prometheus text exposition format 0.0.4. */
  readonly contentType: string;
  /** The exposition text of every metric in the registry (collect-time gauges are computed now). */
  text(): Promise<string>;
  observeProbe(kind: ProbeKind, outcome: ProbeOutcome): void;
  /** One push of a new version of a resource type to `streams` streams. */
  observePush(type: XdsTypeShort, streams: number): void;
  observeLedger(e: LedgerEvent): void;
  observeAlert(level: AlertLevel): void;
}

/** Short label for an xDS type URL; undefined for anything else (never used as a label). */
export function xdsTypeShort(typeUrl: string): XdsTypeShort | undefined {
  let short = shortNames.get(typeUrl);
  if (short === undefined && !shortNames.has(typeUrl)) {
    short = shortName(typeUrl);
    if (shortNames.size < 64) shortNames.set(typeUrl, short);
  }
  return short;
}

const shortNames = new Map<string, XdsTypeShort | undefined>();

function shortName(typeUrl: string): XdsTypeShort | undefined {
  switch (typeUrl.slice(typeUrl.lastIndexOf('/') + 1)) {
    case 'envoy.config.cluster.v3.Cluster':
      return 'cds';
    case 'envoy.config.endpoint.v3.ClusterLoadAssignment':
      return 'eds';
    case 'envoy.config.listener.v3.Listener':
      return 'lds';
    case 'envoy.config.route.v3.RouteConfiguration':
      return 'rds';
    default:
      return undefined;
  }
}

interface Scrape {
  clusters: ClusterSnapshot[];
  endpoints: EndpointSnapshot[];
  truncated: boolean;
  streams: Record<(typeof STREAM_PROTOCOLS)[number], number>;
  firing: Record<AlertLevel, number>;
}

const CHECK_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const isOneOf = <T extends string>(values: readonly T[], v: unknown): v is T => (values as readonly unknown[]).includes(v);

export function createMetrics(ops: Operations, opts: MetricsOptions = {}): HealthmeshMetrics {
  const registry = opts.registry ?? new Registry();
  const p = opts.prefix ?? 'healthmesh_';
  const maxEndpointSeries = opts.maxEndpointSeries ?? DEFAULT_MAX_ENDPOINT_SERIES;
  if (!Number.isInteger(maxEndpointSeries) || maxEndpointSeries < 0) throw new RangeError('maxEndpointSeries must be a non-negative integer');
  // Event-loop delay is sampled every 250 ms, not prom-client's default 10 ms: that timer alone kept
  // an idle process at ~4-8 ms of CPU per second (lag percentiles keep their meaning, at a coarser grain).
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_MS });
  const registers = [registry];

  // One consistent view of the facade per scrape: every collect() of one registry.metrics() call runs
  // in the same synchronous turn, so the snapshot is computed once and dropped at the next microtask.
  let current: Scrape | undefined;
  const scrape = (): Scrape => {
    if (current) return current;
    const clusters = ops.clusters();
    const endpoints = ops.endpoints();
    const streams = { sotw: 0, delta: 0 };
    for (const proxy of ops.proxies()) if (proxy.closedAt === undefined && isOneOf(STREAM_PROTOCOLS, proxy.protocol)) streams[proxy.protocol] += 1;
    const firing = { info: 0, warning: 0, critical: 0 };
    for (const alert of ops.alerts({ state: 'firing' })) if (isOneOf(ALERT_LEVELS, alert.level)) firing[alert.level] += 1;
    current = { clusters, endpoints, truncated: endpoints.length > maxEndpointSeries, streams, firing };
    queueMicrotask(() => {
      current = undefined;
    });
    return current;
  };

  /** A gauge whose series are rebuilt from the scrape snapshot every time it is collected. */
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Scrape) => void): Gauge<L> =>
    new Gauge<L>({
      name: p + name,
      help,
      labelNames,
      registers,
      collect(this: Gauge<L>) {
        const s = scrape();
        this.reset();
        fill(this, s);
      },
    });

  const eachEndpoint = (s: Scrape, fn: (e: EndpointSnapshot, labels: { cluster: string; endpoint: string }) => void): void => {
    if (s.truncated) return;
    for (const e of s.endpoints) fn(e, { cluster: e.cluster, endpoint: `${e.address}:${e.port}` });
  };
  const endpointLabels = ['cluster', 'endpoint'] as const;

  gauge('endpoint_score', 'Fused health score of the endpoint (0..100).', endpointLabels, (g, s) => eachEndpoint(s, (e, l) => g.set(l, e.score)));
  gauge('endpoint_weight', 'Load-balancing weight published for the endpoint.', endpointLabels, (g, s) => eachEndpoint(s, (e, l) => g.set(l, e.weight)));
  gauge(
    'endpoint_expected_share',
    "Expected share (0..1) of the cluster's requests through Envoy, from healthmesh's model of Envoy's load balancing.",
    endpointLabels,
    (g, s) => eachEndpoint(s, (e, l) => g.set(l, e.expectedShare ?? 0)),
  );
  gauge('endpoint_healthy', '1 when the endpoint is published HEALTHY (receives traffic), else 0.', endpointLabels, (g, s) =>
    eachEndpoint(s, (e, l) => g.set(l, e.health === 'HEALTHY' ? 1 : 0)),
  );
  gauge('endpoint_drained', '1 when an operator drained the endpoint, else 0.', endpointLabels, (g, s) =>
    eachEndpoint(s, (e, l) => g.set(l, e.drained ? 1 : 0)),
  );
  gauge('endpoint_status', 'Health status of the endpoint, one-hot over status.', [...endpointLabels, 'status'], (g, s) =>
    eachEndpoint(s, (e, l) => {
      for (const status of STATUSES) g.set({ ...l, status }, e.status === status ? 1 : 0);
    }),
  );
  gauge('endpoint_circuit', 'Circuit breaker state of the endpoint, one-hot over state.', [...endpointLabels, 'state'], (g, s) =>
    eachEndpoint(s, (e, l) => {
      for (const state of CIRCUIT_STATES) g.set({ ...l, state }, e.circuit === state ? 1 : 0);
    }),
  );

  gauge('cluster_endpoints', 'Endpoints of the cluster by health status.', ['cluster', 'state'], (g, s) => {
    const counts = new Map<string, Record<Status, number>>();
    for (const c of s.clusters) counts.set(c.name, { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0 });
    for (const e of s.endpoints) {
      const row = counts.get(e.cluster);
      if (row && isOneOf(STATUSES, e.status)) row[e.status] += 1;
    }
    for (const [cluster, row] of counts) for (const state of STATUSES) g.set({ cluster, state }, row[state]);
  });
  gauge('cluster_ejected', 'Endpoints of the cluster currently ejected (published UNHEALTHY).', ['cluster'], (g, s) => {
    for (const c of s.clusters) g.set({ cluster: c.name }, c.ejected);
  });
  gauge('cluster_guarded', 'Failing endpoints kept in rotation by the cluster guard.', ['cluster'], (g, s) => {
    for (const c of s.clusters) g.set({ cluster: c.name }, c.guarded);
  });
  gauge('cluster_all_failing', '1 when every endpoint of the cluster is failing (reported, not emptied), else 0.', ['cluster'], (g, s) => {
    for (const c of s.clusters) g.set({ cluster: c.name }, c.allFailing ? 1 : 0);
  });
  gauge('xds_streams', 'Open xDS streams by protocol.', ['protocol'], (g, s) => {
    for (const protocol of STREAM_PROTOCOLS) g.set({ protocol }, s.streams[protocol]);
  });
  gauge('alerts_firing', 'Alerts currently firing by level.', ['level'], (g, s) => {
    for (const level of ALERT_LEVELS) g.set({ level }, s.firing[level]);
  });
  gauge('metrics_truncated', `1 when per-endpoint series are omitted because there are more than ${maxEndpointSeries} endpoints.`, [], (g, s) => {
    g.set(s.truncated ? 1 : 0);
  });

  const checks = new Counter({
    name: `${p}checks_total`,
    help: 'Completed active checks by kind and result.',
    labelNames: ['kind', 'result'] as const,
    registers,
  });
  const checkDuration = new Histogram({
    name: `${p}check_duration_seconds`,
    help: 'Duration of active checks.',
    labelNames: ['kind'] as const,
    buckets: CHECK_BUCKETS,
    registers,
  });
  const pushes = new Counter({ name: `${p}xds_pushes_total`, help: 'New versions pushed, by resource type.', labelNames: ['type'] as const, registers });
  const pushMessages = new Counter({
    name: `${p}xds_push_messages_total`,
    help: 'Responses sent to streams for pushes, by resource type.',
    labelNames: ['type'] as const,
    registers,
  });
  const nacks = new Counter({ name: `${p}xds_nacks_total`, help: 'NACKs received from proxies, by resource type.', labelNames: ['type'] as const, registers });
  const publishToAck = new Histogram({
    name: `${p}xds_publish_to_ack_seconds`,
    help: 'Time from publishing a version to a proxy ACKing it.',
    labelNames: ['type'] as const,
    buckets: ACK_BUCKETS,
    registers,
  });
  const alerts = new Counter({ name: `${p}alerts_total`, help: 'Alerts raised, by level.', labelNames: ['level'] as const, registers });

  // Every series of the fixed enums exists from the start, so rate() and absent() behave.
  for (const kind of PROBE_KINDS) {
    for (const result of PROBE_RESULTS) checks.inc({ kind, result }, 0);
    checkDuration.zero({ kind });
  }
  for (const type of XDS_TYPES) {
    pushes.inc({ type }, 0);
    pushMessages.inc({ type }, 0);
    nacks.inc({ type }, 0);
    publishToAck.zero({ type });
  }
  for (const level of ALERT_LEVELS) alerts.inc({ level }, 0);

  // Bound per type once: an ACK per stream per change observes this, and label lookups cost more than the observation.
  const ackTimers = new Map(XDS_TYPES.map((type) => [type, publishToAck.labels({ type })]));

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    observeProbe(kind, outcome) {
      if (!isOneOf(PROBE_KINDS, kind)) return;
      const result: ProbeResult = outcome.timedOut ? 'timeout' : outcome.ok ? 'ok' : 'fail';
      checks.inc({ kind, result });
      if (Number.isFinite(outcome.latencyMs) && outcome.latencyMs >= 0) checkDuration.observe({ kind }, outcome.latencyMs / 1000);
    },
    observePush(type, streams) {
      if (!isOneOf(XDS_TYPES, type)) return;
      pushes.inc({ type });
      if (Number.isFinite(streams) && streams > 0) pushMessages.inc({ type }, Math.floor(streams));
    },
    observeLedger(e) {
      const type = xdsTypeShort(e.typeUrl);
      if (!type) return;
      if (e.kind === 'nack') nacks.inc({ type });
      else if (Number.isFinite(e.publishToAckMs) && e.publishToAckMs >= 0) ackTimers.get(type)?.observe(e.publishToAckMs / 1000);
    },
    observeAlert(level) {
      if (isOneOf(ALERT_LEVELS, level)) alerts.inc({ level });
    },
  };
}
