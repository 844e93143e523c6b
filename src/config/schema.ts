import { z } from 'zod';

/** Names end up as xDS resource names and metric labels: keep them boring. */
const resourceName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" or "-" only');

const port = z.number().int().min(1).max(65535);
const host = z.string().min(1).max(253);

export const endpointSchema = z
  .object({
    address: host,
    port,
    zone: z.string().max(100).optional(),
    region: z.string().max(100).optional(),
    weight: z.number().int().min(1).max(128).default(1),
    health: z.enum(['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'DEGRADED']).default('HEALTHY'),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
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
    address: host.default('127.0.0.1'),
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
    maxReceiveMessageBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    maxSendMessageBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(64 * 1024 * 1024),
    /** A stream whose socket will not take more bytes for this long is closed with RESOURCE_EXHAUSTED. */
    stuckStreamTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** NACKs accepted per stream per minute before the stream is closed. */
    maxNacksPerMinute: z.number().int().min(1).max(100_000).default(60),
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
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'routeConfig'], message: `no route configuration named "${l.routeConfig}"`, input: l.routeConfig });
      }
    });
    cfg.routes.forEach((r, i) =>
      r.virtualHosts.forEach((vh, j) =>
        vh.routes.forEach((rt, k) => {
          if (!clusterNames.has(rt.cluster)) {
            ctx.addIssue({ code: 'custom', path: ['routes', i, 'virtualHosts', j, 'routes', k, 'cluster'], message: `no cluster named "${rt.cluster}"`, input: rt.cluster });
          }
        }),
      ),
    );
    cfg.clusters.forEach((c, i) => {
      const seen = new Set<string>();
      c.endpoints.forEach((e, j) => {
        const key = `${e.address}:${e.port}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'endpoints', j], message: `duplicate endpoint ${key}`, input: key });
        seen.add(key);
      });
    });
    const ports = new Map<string, number>();
    cfg.listeners.forEach((l, i) => {
      if (l.kind !== 'tcp') return;
      const key = `${l.address}:${l.port}`;
      if (ports.has(key)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'port'], message: `address ${key} already used by listener ${ports.get(key)}`, input: l.port });
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
