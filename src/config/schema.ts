import { z } from 'zod';
import { reportsConfigSchema } from './reports-schema.js';
import { replicationConfigSchema } from './replication-schema.js';
import { isHostName, parseAllowEntry, parseIpLiteral, policyFor } from './address-policy.js';
import { endpointIssues } from './endpoint-rules.js';
import { proxylessIssues } from './proxyless-rules.js';
import { authSchema, watchLimitsShape, xdsTlsSchema } from './security-schema.js';

/** Names end up as xDS resource names and metric labels: keep them boring. */
const resourceName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" or "-" only');

const port = z.number().int().min(1).max(65535);

/** A probe target as written: an IP literal or a DNS host name (resolved and vetted at probe time). */
const host = z
  .string()
  .min(1)
  .max(253)
  .refine((s) => parseIpLiteral(s) !== undefined || isHostName(s), 'an IP address or a DNS host name');

/** Where Envoy binds a listener: an IP literal (Envoy refuses a host name in a socket address). */
const ipLiteral = z.string().refine((s) => parseIpLiteral(s) !== undefined, 'an IP address (Envoy refuses host names in socket addresses)');

/** HTTP header names are tokens; values must not smuggle line breaks (undici refuses them at probe time). */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'an HTTP header name (token characters)');
const headerValue = z
  .string()
  .max(8192)
  .regex(/^[^\r\n\0]*$/, 'no CR, LF or NUL');

const statusRange = z
  .string()
  .regex(/^\d{3}(-\d{3})?$/, 'a status code or range, e.g. "200" or "200-399"')
  .refine((r) => {
    const [from, to = from] = r.split('-').map(Number) as [number, number?];
    return from >= 100 && to <= 599 && from <= to;
  }, 'status codes are 100..599 and a range must not end before it starts');

/** One active check. Exactly one of http / tcp / grpc / custom. */
export const checkSchema = z
  .object({
    http: z
      .object({
        method: z.enum(['GET', 'HEAD', 'POST', 'OPTIONS']).default('GET'),
        path: z.string().startsWith('/').default('/healthz'),
        https: z.boolean().default(false),
        host: z.string().max(253).optional(),
        expectedStatuses: z.array(statusRange).min(1).default(['200-399']),
        bodyMatch: z.string().max(1000).optional(),
        headers: z.record(headerName, headerValue).optional(),
      })
      .strict()
      .optional(),
    tcp: z.object({}).strict().optional(),
    grpc: z
      .object({ service: z.string().max(200).default('') })
      .strict()
      .optional(),
    custom: z
      .object({
        /** Path of a JS/TS module exporting `default async (target, { signal, options }) => { ok, detail? }`. */
        module: z.string().min(1),
        options: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((c) => [c.http, c.tcp, c.grpc, c.custom].filter(Boolean).length === 1, 'exactly one of http, tcp, grpc or custom');

export const healthCheckSchema = z
  .object({
    check: checkSchema.default({ tcp: {} }),
    intervalMs: z.number().int().min(50).max(3_600_000).default(5000),
    timeoutMs: z.number().int().min(10).max(600_000).default(1000),
    /** Random spread of each interval, in percent of it. */
    jitterPercent: z.number().min(0).max(50).default(10),
    healthyThreshold: z.number().int().min(1).max(100).default(2),
    unhealthyThreshold: z.number().int().min(1).max(100).default(3),
    /** A passing probe slower than this counts against the score ("p99 > limit"). */
    latencyThresholdMs: z.number().int().min(1).max(600_000).optional(),
  })
  .strict()
  .refine((h) => h.timeoutMs <= h.intervalMs, { message: 'timeoutMs must not exceed intervalMs', path: ['timeoutMs'] });

export const dependencySchema = z
  .object({
    name: resourceName,
    address: host,
    port,
    check: checkSchema.default({ tcp: {} }),
    timeoutMs: z.number().int().min(10).max(600_000).default(1000),
  })
  .strict();

/** Bounds and address syntax come from endpoint-rules.ts: the same rules as RegisterEndpoint. */
export const endpointSchema = z
  .object({
    address: z.string(),
    port: z.number(),
    zone: z.string().optional(),
    region: z.string().optional(),
    weight: z.number().default(1),
    /** Operator override: published as this whatever the checks say (absent: healthmesh decides). */
    health: z.enum(['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'DEGRADED']).optional(),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    /** Per-endpoint override of the cluster's check (merged over it). */
    healthCheck: z.lazy(() => healthCheckOverrideSchema).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    for (const issue of endpointIssues(e)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: e });
  });

const healthCheckOverrideSchema = z
  .object({
    check: checkSchema.optional(),
    intervalMs: z.number().int().min(50).max(3_600_000).optional(),
    timeoutMs: z.number().int().min(10).max(600_000).optional(),
    latencyThresholdMs: z.number().int().min(1).max(600_000).optional(),
  })
  .strict();

/**
 * Envoy's own outlier detection on real requests (CDS `outlier_detection`): Envoy ejects a host that
 * fails real requests within a few requests, while healthmesh's probes confirm or clear it.
 */
/** Envoy's outlier-detection counts are uint32 (protobuf would wrap a larger number silently). */
const UINT32_MAX = 4_294_967_295;

export const outlierDetectionSchema = z
  .object({
    /** Consecutive 5xx (or connection failures) that eject a host. */
    consecutive5xx: z.number().int().min(1).max(10_000).default(5),
    /** How often Envoy sweeps (success-rate / failure-percentage statistics, un-ejection). */
    intervalMs: z.number().int().min(100).max(3_600_000).default(1000),
    /** First ejection lasts this long; each repeat ejection of a host longer. */
    baseEjectionTimeMs: z.number().int().min(100).max(3_600_000).default(10_000),
    /** At most this share of the hosts ejected by Envoy (default: health.guard.maxEjectedPercent). */
    maxEjectionPercent: z.number().int().min(0).max(100).optional(),
    /** Statistical ejection of hosts whose success rate is stdevFactor/1000 standard deviations below the mean. */
    successRate: z
      .object({
        minimumHosts: z.number().int().min(1).max(UINT32_MAX).default(5),
        requestVolume: z.number().int().min(1).max(UINT32_MAX).default(100),
        stdevFactor: z.number().int().min(1).max(UINT32_MAX).default(1900),
      })
      .strict()
      .optional(),
    /** Ejection of hosts whose failure percentage is at least `threshold`. */
    failurePercentage: z
      .object({
        threshold: z.number().int().min(0).max(100).default(85),
        minimumHosts: z.number().int().min(1).max(UINT32_MAX).default(5),
        requestVolume: z.number().int().min(1).max(UINT32_MAX).default(50),
      })
      .strict()
      .optional(),
  })
  .strict();

export const clusterSchema = z
  .object({
    name: resourceName,
    connectTimeoutMs: z.number().int().min(1).max(60_000).default(1000),
    lbPolicy: z.enum(['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM']).default('ROUND_ROBIN'),
    /** Envoy's panic threshold in percent; see README "Panic threshold". */
    panicThresholdPercent: z.number().min(0).max(100).default(0),
    http2: z.boolean().default(false),
    /** Envoy's outlier detection, published in CDS (absent: none). */
    outlierDetection: outlierDetectionSchema.optional(),
    /** Active health checking by healthmesh (absent: endpoints are published as configured). */
    healthCheck: healthCheckSchema.optional(),
    /** Targets every endpoint of the cluster depends on (e.g. its database); a failing one fails the endpoints. */
    dependencies: z.array(dependencySchema).default([]),
    endpoints: z.array(endpointSchema).default([]),
  })
  .strict();

const routeSchema = z
  .object({
    prefix: z.string().startsWith('/').default('/'),
    cluster: resourceName,
    timeoutMs: z.number().int().min(0).max(3_600_000).optional(),
  })
  .strict();

export const virtualHostSchema = z
  .object({
    name: resourceName,
    domains: z.array(z.string().min(1)).min(1).default(['*']),
    routes: z.array(routeSchema).min(1),
  })
  .strict();

export const routeConfigSchema = z
  .object({
    name: resourceName,
    virtualHosts: z.array(virtualHostSchema).min(1),
  })
  .strict();

export const listenerSchema = z
  .object({
    name: resourceName,
    /** `tcp`: a socket listener on Envoy; `api`: a gRPC proxyless target (`xds:///<name>`). */
    kind: z.enum(['tcp', 'api']).default('tcp'),
    address: ipLiteral.default('127.0.0.1'),
    port: port.optional(),
    routeConfig: resourceName,
    statPrefix: z.string().max(100).optional(),
  })
  .strict()
  .refine((l) => l.kind === 'api' || l.port !== undefined, { message: 'a tcp listener needs a port', path: ['port'] });

const listenAddress = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 127.0.0.1:18000')
  .refine((s) => Number(s.split(':').pop()) <= 65535, 'port must be <= 65535');

export const xdsSchema = z
  .object({
    listen: listenAddress.default('127.0.0.1:18000'),
    /** Coalescing window for pushes. */
    debounceMs: z.number().int().min(0).max(10_000).default(50),
    maxReceiveMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    maxSendMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(64 * 1024 * 1024),
    /** A stream whose socket will not take more bytes for this long is closed with RESOURCE_EXHAUSTED. */
    stuckStreamTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** NACKs accepted per stream per minute before the stream is closed. */
    maxNacksPerMinute: z.number().int().min(1).max(100_000).default(60),
    /** Resource names one stream may subscribe to (all types; also per SotW request); more → RESOURCE_EXHAUSTED. */
    maxSubscriptionsPerStream: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Longest node.id accepted (UTF-8 bytes); longer → INVALID_ARGUMENT. */
    maxNodeIdBytes: z.number().int().min(16).max(1024).default(1024),
    /** NACK error_detail text kept (ledger, alerts, logs), in bytes; the rest is cut. */
    maxErrorDetailBytes: z.number().int().min(64).max(65_536).default(4096),
    /** Unsupported type_urls remembered per proxy (each cut to 256 characters). */
    ledgerMaxUnknownTypes: z.number().int().min(0).max(100).default(8),
    /** Records of disconnected streams kept: at most this many... */
    ledgerClosedStreams: z.number().int().min(0).max(10_000).default(100),
    /** ...and at most this many bytes (estimated JSON size), oldest dropped first. */
    ledgerClosedBytes: z
      .number()
      .int()
      .min(0)
      .max(256 * 1024 * 1024)
      .default(1024 * 1024),
    /** Log lines derived from client input (NACKs, unknown types, refused streams, connects): at most `logBurst` per kind per this window. */
    clientLogWindowMs: z.number().int().min(0).max(3_600_000).default(10_000),
    clientLogBurst: z.number().int().min(1).max(10_000).default(20),
    /** TLS (and mTLS with clientCa) for the gRPC port; see security-schema.ts. */
    tls: xdsTlsSchema.optional(),
  })
  .strict();

export const scoringSchema = z
  .object({
    /** Relative weights of the signal families in the fused score. */
    weights: z
      .object({
        active: z.number().min(0).default(0.6),
        passive: z.number().min(0).default(0.25),
        node: z.number().min(0).default(0.15),
      })
      .strict()
      .default({ active: 0.6, passive: 0.25, node: 0.15 }),
    /** Score thresholds with hysteresis: going down at one value, coming back at a higher one. */
    degradedBelow: z.number().min(0).max(100).default(70),
    unhealthyBelow: z.number().min(0).max(100).default(30),
    recoverAbove: z.number().min(0).max(100).default(80),
    /** Number of recent probes the failure ratio is taken over. */
    probeWindow: z.number().int().min(2).max(1000).default(10),
    /** Passive: error ratio from Envoy's load reports that starts to cost score, and that costs all of it. */
    passiveErrorRateWarn: z.number().min(0).max(1).default(0.05),
    passiveErrorRateFail: z.number().min(0).max(1).default(0.5),
    /** Passive reports with fewer requests than this are ignored (too little traffic to judge). */
    passiveMinRequests: z.number().int().min(1).default(20),
    /** Adaptive latency: median probe latency this many times the cluster's median costs score (no threshold needed). */
    relativeLatencyFactor: z.number().min(1.5).max(100).default(3),
    /** Hosts faster than this are never slow relative to their peers. */
    relativeLatencyMinMs: z.number().min(0).max(600_000).default(20),
    /** Passing probes an endpoint needs in its window before it is judged slow relative to its peers. */
    relativeLatencyMinSamples: z.number().int().min(1).max(1000).default(3),
  })
  .strict()
  .refine((s) => s.unhealthyBelow <= s.degradedBelow && s.degradedBelow <= s.recoverAbove, 'need unhealthyBelow <= degradedBelow <= recoverAbove');

export const circuitSchema = z
  .object({
    /** First open period; doubled (backoffMultiplier) for each repeat trip, capped at maxOpenMs. */
    baseOpenMs: z.number().int().min(0).max(3_600_000).default(10_000),
    maxOpenMs: z.number().int().min(0).max(86_400_000).default(300_000),
    backoffMultiplier: z.number().min(1).max(10).default(2),
    /** Consecutive passing probes needed in half-open before the circuit closes. */
    probationSuccesses: z.number().int().min(1).max(100).default(2),
    /** Trips within flapWindowMs at or above flapThreshold mark the endpoint flapping (held down longer). */
    flapWindowMs: z.number().int().min(1000).max(86_400_000).default(300_000),
    flapThreshold: z.number().int().min(2).max(100).default(3),
    /** Closed this long without a trip: the backoff is forgotten. */
    resetAfterMs: z.number().int().min(0).max(86_400_000).default(600_000),
  })
  .strict();

export const recoverySchema = z
  .object({
    /** Slow-start window after the circuit closes: weight ramps from minWeightPercent to 100%. */
    windowMs: z.number().int().min(0).max(3_600_000).default(60_000),
    /** Curve: weight = max(min, (t / window) ^ (1 / aggression)); 1 is linear, larger is faster early. */
    aggression: z.number().min(0.1).max(10).default(1),
    minWeightPercent: z.number().min(1).max(100).default(10),
    /** Weights are quantised to this many steps so Envoy is not rebuilt on every tick. */
    steps: z.number().int().min(1).max(100).default(5),
  })
  .strict();

export const guardSchema = z
  .object({
    /** At most this share of a cluster's endpoints is ejected (UNHEALTHY) at once. */
    maxEjectedPercent: z.number().min(0).max(100).default(50),
    /** At most this share of a cluster's traffic (as Envoy splits it) goes to endpoints healthmesh believes failing. */
    maxFailingSharePercent: z.number().min(0).max(100).default(10),
  })
  .strict();

/** Weights follow the score: see src/core/weight.ts and README "Weights follow the score". */
export const weightingSchema = z
  .object({
    /** Score at and above which the full weight is granted. */
    fullAbove: z.number().min(1).max(100).default(90),
    /** Curve exponent between unhealthyBelow and fullAbove. */
    curve: z.number().min(0.25).max(8).default(2.5),
    /** Weight levels (quantisation). */
    levels: z.number().int().min(1).max(100).default(4),
    hysteresisPoints: z.number().min(0).max(50).default(3),
    /** A weight level is held at least this long. */
    minDwellMs: z.number().int().min(0).max(3_600_000).default(5000),
  })
  .strict();

export const healthSchema = z
  .object({
    scoring: scoringSchema.default(scoringSchema.parse({})),
    circuit: circuitSchema.default(circuitSchema.parse({})),
    recovery: recoverySchema.default(recoverySchema.parse({})),
    guard: guardSchema.default(guardSchema.parse({})),
    weighting: weightingSchema.default(weightingSchema.parse({})),
    /** DEGRADED endpoints: `weight` publishes them HEALTHY at degradedWeightPercent of their weight
     *  (Envoy and gRPC both keep sending them some traffic); `status` publishes Envoy's DEGRADED
     *  (Envoy uses them only when healthy hosts are not enough; gRPC clients drop them). */
    degradedMode: z.enum(['weight', 'status']).default('weight'),
    degradedWeightPercent: z.number().min(1).max(100).default(30),
    /** Engine tick: advances ramps, circuit timers and heartbeat timeouts between signals. */
    tickMs: z.number().int().min(10).max(60_000).default(250),
    /** Concurrent probes at most. */
    probeConcurrency: z.number().int().min(1).max(10_000).default(256),
    /** At start, the first snapshot waits at most this long for new endpoints' first check (Envoy's cluster warming). */
    warmupTimeoutMs: z.number().int().min(0).max(600_000).default(5000),
    /** Probe targets normally refused (link-local, cloud metadata) that are allowed anyway. */
    allowTargets: z
      .array(
        z.string().superRefine((entry, ctx) => {
          const parsed = parseAllowEntry(entry);
          if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error, input: entry });
        }),
      )
      .max(1000)
      .default([]),
  })
  .strict();

export const agentsSchema = z
  .object({
    /** No heartbeat for this long: the node's endpoints are degraded; for failAfterMs: failed. */
    heartbeatTimeoutMs: z.number().int().min(100).max(3_600_000).default(15_000),
    failAfterMs: z.number().int().min(100).max(3_600_000).default(45_000),
    cpuPercentMax: z.number().min(1).max(100).default(90),
    memoryPercentMax: z.number().min(1).max(100).default(90),
    diskPercentMax: z.number().min(1).max(100).default(95),
    /** A node silent for failAfterMs + detachGraceMs is detached from its endpoints: its last sample stops counting. */
    detachGraceMs: z.number().int().min(0).max(86_400_000).default(30_000),
  })
  .strict()
  .refine((a) => a.failAfterMs >= a.heartbeatTimeoutMs, { message: 'failAfterMs must be >= heartbeatTimeoutMs', path: ['failAfterMs'] });

export const lrsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** How often Envoy is asked to report load. */
    reportIntervalMs: z.number().int().min(100).max(600_000).default(2000),
    /** A load-report stream whose node id has no open ADS stream for this long is closed (its reports never count). */
    adsGraceMs: z.number().int().min(100).max(600_000).default(10_000),
  })
  .strict();

export const storeSchema = z
  .object({
    /** SQLite file (created with its directory); ":memory:" keeps nothing across restarts. */
    path: z.string().min(1).default('data/healthmesh.db'),
    /** Every endpoint's score/status/metrics are recorded at least this often (and on every change). */
    sampleIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
    retention: z
      .object({
        historyHours: z
          .number()
          .min(1)
          .max(24 * 365)
          .default(24 * 7),
        /** History older than this is downsampled to one point per endpoint per minute. */
        fullResolutionHours: z
          .number()
          .min(0)
          .max(24 * 365)
          .default(24),
        alertsHours: z
          .number()
          .min(1)
          .max(24 * 365)
          .default(24 * 30),
      })
      .strict()
      .default({ historyHours: 24 * 7, fullResolutionHours: 24, alertsHours: 24 * 30 }),
    cleanupIntervalMs: z.number().int().min(1000).max(86_400_000).default(600_000),
  })
  .strict();

export const adminSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Loopback by default; binding elsewhere is an explicit choice. */
    listen: listenAddress.default('127.0.0.1:9090'),
    /** Bearer token for mutating calls; or tokenEnv names an environment variable holding it. Without either, mutations are refused. */
    token: z.string().min(16, 'use at least 16 characters').optional(),
    tokenEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
  })
  .strict();

export const statusSchema = z
  .object({
    /** Where the gRPC status service listens; default: on the xDS port. */
    listen: listenAddress.optional(),
    /** Points of history returned by GetEndpoint by default. */
    historyLimit: z.number().int().min(1).max(100_000).default(100),
    /** Watch stream caps (maxWatchers, watchBacklog, maxWatchBacklogBytes); see security-schema.ts. */
    ...watchLimitsShape,
  })
  .strict();

const alertLevel = z.enum(['info', 'warning', 'critical']);

export const alertsSchema = z
  .object({
    /** The same rule for the same subject fires again only after this long. */
    cooldownMs: z.number().int().min(0).max(86_400_000).default(60_000),
    rules: z
      .object({
        endpointUnhealthy: z
          .object({ enabled: z.boolean().default(true), level: alertLevel.default('warning') })
          .strict()
          .default({ enabled: true, level: 'warning' }),
        /** Cluster capacity: healthy share below `belowPercent`. Mass failure beyond the guard is always critical. */
        clusterCapacity: z
          .object({ enabled: z.boolean().default(true), level: alertLevel.default('critical'), belowPercent: z.number().min(0).max(100).default(50) })
          .strict()
          .default({ enabled: true, level: 'critical', belowPercent: 50 }),
        flapping: z
          .object({ enabled: z.boolean().default(true), level: alertLevel.default('warning') })
          .strict()
          .default({ enabled: true, level: 'warning' }),
        nack: z
          .object({ enabled: z.boolean().default(true), level: alertLevel.default('critical') })
          .strict()
          .default({ enabled: true, level: 'critical' }),
        heartbeatMissing: z
          .object({ enabled: z.boolean().default(true), level: alertLevel.default('warning') })
          .strict()
          .default({ enabled: true, level: 'warning' }),
        resources: z
          .object({ enabled: z.boolean().default(true), level: alertLevel.default('info') })
          .strict()
          .default({ enabled: true, level: 'info' }),
      })
      .strict()
      .default({
        endpointUnhealthy: { enabled: true, level: 'warning' },
        clusterCapacity: { enabled: true, level: 'critical', belowPercent: 50 },
        flapping: { enabled: true, level: 'warning' },
        nack: { enabled: true, level: 'critical' },
        heartbeatMissing: { enabled: true, level: 'warning' },
        resources: { enabled: true, level: 'info' },
      }),
    webhook: z
      .object({
        url: z.string().url(),
        timeoutMs: z.number().int().min(100).max(60_000).default(3000),
        retries: z.number().int().min(0).max(10).default(3),
        minLevel: alertLevel.default('warning'),
      })
      .strict()
      .optional(),
    historyLimit: z.number().int().min(10).max(1_000_000).default(10_000),
  })
  .strict();

export const limitsSchema = z
  .object({
    /** Endpoints in all (configured + registered); a registration beyond it is refused RESOURCE_EXHAUSTED. */
    maxEndpoints: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export const configSchema = z
  .object({
    xds: xdsSchema.default(xdsSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    health: healthSchema.default(healthSchema.parse({})),
    agents: agentsSchema.default(agentsSchema.parse({})),
    lrs: lrsSchema.default(lrsSchema.parse({})),
    store: storeSchema.default(storeSchema.parse({})),
    admin: adminSchema.default(adminSchema.parse({})),
    status: statusSchema.default(statusSchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    /** Bearer tokens for the write RPCs on the gRPC port; see security-schema.ts. */
    auth: authSchema.default(authSchema.parse({})),
    /** Scheduled reports written to a directory (the schema lives with the reports module). */
    reports: reportsConfigSchema.default(reportsConfigSchema.parse({})),
    limits: limitsSchema.default(limitsSchema.parse({})),
    /** Opt-in: several replicas sharing membership and decisions on etcd (src/replication/config.ts). */
    replication: replicationConfigSchema.optional(),
    listeners: z.array(listenerSchema).default([]),
    routes: z.array(routeConfigSchema).default([]),
    clusters: z.array(clusterSchema).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    uniqueNames(cfg.listeners, ['listeners'], ctx);
    uniqueNames(cfg.routes, ['routes'], ctx);
    uniqueNames(cfg.clusters, ['clusters'], ctx);
    const routeNames = new Set(cfg.routes.map((r) => r.name));
    const clusterNames = new Set(cfg.clusters.map((c) => c.name));
    cfg.listeners.forEach((l, i) => {
      if (!routeNames.has(l.routeConfig)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'routeConfig'],
          message: `no route configuration named "${l.routeConfig}"`,
          input: l.routeConfig,
        });
      }
    });
    cfg.routes.forEach((r, i) =>
      r.virtualHosts.forEach((vh, j) =>
        vh.routes.forEach((rt, k) => {
          if (!clusterNames.has(rt.cluster)) {
            ctx.addIssue({
              code: 'custom',
              path: ['routes', i, 'virtualHosts', j, 'routes', k, 'cluster'],
              message: `no cluster named "${rt.cluster}"`,
              input: rt.cluster,
            });
          }
        }),
      ),
    );
    // Envoy NACKs a route configuration whose virtual hosts repeat a domain, compared case-insensitively
    // ("Only unique values for domains are permitted", "Only a single wildcard domain is permitted").
    cfg.routes.forEach((r, i) => {
      const seen = new Map<string, string>();
      r.virtualHosts.forEach((vh, j) =>
        vh.domains.forEach((d, k) => {
          const first = seen.get(d.toLowerCase());
          if (first !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['routes', i, 'virtualHosts', j, 'domains', k],
              message: `domain "${d}" is already served by virtual host "${first}" of route "${r.name}" (Envoy rejects a domain repeated in one route configuration, compared case-insensitively)`,
              input: d,
            });
          else seen.set(d.toLowerCase(), vh.name);
        }),
      );
    });
    cfg.clusters.forEach((c, i) => {
      const seen = new Set<string>();
      c.endpoints.forEach((e, j) => {
        const key = `${e.address}:${e.port}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'endpoints', j], message: `duplicate endpoint ${key}`, input: key });
        seen.add(key);
      });
    });
    // A malformed allowTargets entry has its own issue; the policy checks need a valid list.
    const policy = cfg.health.allowTargets.every((a) => !('error' in parseAllowEntry(a))) ? policyFor(cfg.health.allowTargets) : undefined;
    let endpointCount = 0;
    cfg.clusters.forEach((c, i) => {
      endpointCount += c.endpoints.length;
      if (!policy) return;
      c.endpoints.forEach((e, j) => {
        const ip = parseIpLiteral(e.address); // a malformed address has its issue already
        const why = ip && policy.refusal(ip);
        if (why) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'endpoints', j, 'address'], message: `${e.address} refused: ${why}`, input: e.address });
      });
      c.dependencies.forEach((d, j) => {
        const ip = parseIpLiteral(d.address);
        const why = ip ? policy.refusal(ip) : policy.nameRefusal(d.address);
        if (why)
          ctx.addIssue({ code: 'custom', path: ['clusters', i, 'dependencies', j, 'address'], message: `${d.address} refused: ${why}`, input: d.address });
      });
    });
    if (endpointCount > cfg.limits.maxEndpoints) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'maxEndpoints'],
        message: `the config declares ${endpointCount} endpoints, more than limits.maxEndpoints (${cfg.limits.maxEndpoints})`,
        input: cfg.limits.maxEndpoints,
      });
    }
    for (const issue of proxylessIssues(cfg)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: issue.value });
    const ports = new Map<string, number>();
    cfg.listeners.forEach((l, i) => {
      if (l.kind !== 'tcp') return;
      const key = `${l.address}:${l.port}`;
      if (ports.has(key))
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'port'], message: `address ${key} already used by listener ${ports.get(key)}`, input: l.port });
      ports.set(key, i);
    });
  });

function uniqueNames(items: { name: string }[], path: (string | number)[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [...path, i, 'name'], message: `duplicate name "${item.name}"`, input: item.name });
    seen.add(item.name);
  });
}

export type Config = z.infer<typeof configSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type EndpointConfig = z.infer<typeof endpointSchema>;
export type ListenerConfig = z.infer<typeof listenerSchema>;
export type RouteConfig = z.infer<typeof routeConfigSchema>;
export type XdsConfig = z.infer<typeof xdsSchema>;
export type HealthCheckConfig = z.infer<typeof healthCheckSchema>;
export type CheckConfig = z.infer<typeof checkSchema>;
export type DependencyConfig = z.infer<typeof dependencySchema>;
export type HealthConfig = z.infer<typeof healthSchema>;
export type AgentsConfig = z.infer<typeof agentsSchema>;
export type LrsConfig = z.infer<typeof lrsSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type AdminConfig = z.infer<typeof adminSchema>;
export type StatusConfig = z.infer<typeof statusSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
export type { AuthConfig, AuthTokenConfig, XdsTlsConfig } from './security-schema.js';
export type ReportsSettings = z.infer<typeof reportsConfigSchema>;
