/** The admin HTTP routes: read-only views of the Operations facade, /metrics, and token-guarded mutations. */
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { endpointKey, type EndpointKey, type Status } from '../core/model.js';
import { NotFoundError } from '../errors.js';
import type { HealthmeshMetrics } from '../metrics.js';
import type { AlertLevel, AlertRecord, EndpointSnapshot, Operations } from '../operations.js';
import * as v from './validate.js';

export interface RouteDeps {
  ops: Operations;
  metrics: HealthmeshMetrics;
  /** onRequest hook that refuses the call unless it carries the admin token (runs before the body is read). */
  requireToken: onRequestHookHandler;
  log: FastifyBaseLogger;
}

const STATUSES: readonly Status[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY'];
const ALERT_STATES: readonly AlertRecord['state'][] = ['firing', 'resolved'];
const ALERT_LEVELS: readonly AlertLevel[] = ['info', 'warning', 'critical'];
const MAX_TIME = 8.64e15;
const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 10_000;

type EndpointParams = { cluster?: unknown; endpoint?: unknown };

export function registerAdminRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { ops, metrics, requireToken, log } = deps;

  /** The key named by `:cluster/:endpoint`, which must exist. */
  const existingEndpoint = (params: EndpointParams): { key: EndpointKey; cluster: string; endpoint: string; snapshot: EndpointSnapshot } => {
    const cluster = v.name(params.cluster, 'cluster');
    const { address, port } = v.hostPort(params.endpoint, 'endpoint');
    const key = endpointKey(cluster, address, port);
    const snapshot = ops.endpoint(key);
    if (!snapshot) throw new NotFoundError(`endpoint ${key}`);
    return { key, cluster, endpoint: `${address}:${port}`, snapshot };
  };
  const audit = (req: FastifyRequest, what: Record<string, unknown>, msg: string): void => {
    log.info({ ...what, remoteAddress: req.ip }, msg);
  };

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const ready = ops.ready();
    const degraded = ops.degraded?.() ?? [];
    // Degraded parts (etcd away) do not make a replica unready: it keeps serving its last snapshot.
    return reply.code(ready ? 200 : 503).send(degraded.length > 0 ? { ready, degraded } : { ready });
  });

  app.get('/status', async (req) => {
    const q = v.query(req.query, ['cluster', 'status'] as const);
    const cluster = q.cluster === undefined ? undefined : v.name(q.cluster, 'cluster');
    const status = q.status === undefined ? undefined : v.oneOf(q.status, STATUSES, 'status', (s) => s.toUpperCase());
    const clusters = ops.clusters().filter((c) => cluster === undefined || c.name === cluster);
    if (cluster !== undefined && clusters.length === 0) throw new NotFoundError(`cluster ${cluster}`);
    return { clusters, endpoints: ops.endpoints({ cluster, status }) };
  });

  app.get('/status/:cluster/:endpoint', async (req) => {
    const { key, snapshot } = existingEndpoint(req.params as EndpointParams);
    const q = v.query(req.query, ['from', 'to', 'limit'] as const);
    const from = q.from === undefined ? undefined : v.integer(q.from, 'from', 0, MAX_TIME);
    const to = q.to === undefined ? undefined : v.integer(q.to, 'to', 0, MAX_TIME);
    const limit = q.limit === undefined ? HISTORY_DEFAULT_LIMIT : v.integer(q.limit, 'limit', 1, HISTORY_MAX_LIMIT);
    return { endpoint: snapshot, history: ops.history(key, { from, to, limit }) };
  });

  app.get('/proxies', async (req) => {
    v.query(req.query, []);
    return { proxies: ops.proxies() };
  });

  app.get('/config', async (req) => {
    v.query(req.query, []);
    return ops.config();
  });

  app.get('/alerts', async (req) => {
    const q = v.query(req.query, ['state', 'level', 'from', 'to'] as const);
    return {
      alerts: ops.alerts({
        state: q.state === undefined ? undefined : v.oneOf(q.state, ALERT_STATES, 'state', (s) => s.toLowerCase()),
        level: q.level === undefined ? undefined : v.oneOf(q.level, ALERT_LEVELS, 'level', (s) => s.toLowerCase()),
        from: q.from === undefined ? undefined : v.integer(q.from, 'from', 0, MAX_TIME),
        to: q.to === undefined ? undefined : v.integer(q.to, 'to', 0, MAX_TIME),
      }),
    };
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.text();
    return reply.header('content-type', metrics.contentType).send(text);
  });

  for (const [action, drained] of [
    ['drain', true],
    ['undrain', false],
  ] as const) {
    app.post(`/endpoints/:cluster/:endpoint/${action}`, { onRequest: requireToken }, async (req) => {
      const { key, cluster, endpoint } = existingEndpoint(req.params as EndpointParams);
      const snapshot = ops.drain(key, drained);
      audit(req, { cluster, endpoint, drained }, drained ? 'endpoint drained via admin API' : 'endpoint undrained via admin API');
      return { endpoint: snapshot };
    });
  }

  app.post('/endpoints/:cluster/:endpoint/recheck', { onRequest: requireToken }, async (req) => {
    const { key, cluster, endpoint } = existingEndpoint(req.params as EndpointParams);
    audit(req, { cluster, endpoint }, 'recheck requested via admin API');
    const result = await ops.recheck(key);
    return { key, result };
  });

  app.post('/alerts/:id/ack', { onRequest: requireToken }, async (req) => {
    const id = v.alertId((req.params as { id?: unknown }).id);
    const { by } = v.stringFields(req.body, ['by'] as const, 100);
    const alert = ops.acknowledgeAlert(id, by ?? 'admin');
    audit(req, { alert: id, by: by ?? 'admin' }, 'alert acknowledged via admin API');
    return { alert };
  });
}
