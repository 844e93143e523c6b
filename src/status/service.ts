import * as grpc from '@grpc/grpc-js';
import { authorizeCall, type Authenticator, type AuthRole, type Identity } from '../auth/index.js';
import type { StatusConfig } from '../config/schema.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Operations } from '../operations.js';
import { alertToWire, clusterToWire, endpointToWire, historyToWire, proxyToWire } from './convert.js';
import { toGrpcStatus } from './grpc-status.js';
import { isMalformed, type Decoded } from '../decoded.js';
import {
  statusServiceDefinition,
  type StatusRequestDecoded,
  type StatusResponse,
  type StatusUnaryMethod,
  type WatchEventWire,
  type WatchRequestWire,
} from './proto.js';
import { validateDeregister, validateGetEndpoint, validateListAlerts, validateListEndpoints, validateRegister, validateWatch } from './validate.js';
import { WatchBudget, WatchStream } from './watch.js';

export interface StatusServiceOptions {
  ops: Operations;
  logger: Logger;
  config: Pick<StatusConfig, 'historyLimit'> & Partial<Pick<StatusConfig, 'maxWatchers' | 'watchBacklog' | 'maxWatchBacklogBytes'>>;
  /** Checks the bearer token of Register/Deregister (operator role or the admin token). Read-only RPCs are open. */
  auth: Authenticator;
  now?: () => number;
}

type Handler<M extends StatusUnaryMethod> = (
  req: Partial<StatusRequestDecoded<M>>,
  who: Identity | undefined,
) => StatusResponse<M> | Promise<StatusResponse<M>>;

export const DEFAULT_WATCH_BACKLOG = 1024;
export const DEFAULT_MAX_WATCHERS = 256;
export const DEFAULT_MAX_WATCH_BACKLOG_BYTES = 64 * 1024 * 1024;

/**
 * healthmesh.v1.Status: a thin gRPC adapter over Operations. Every request field is validated
 * before Operations is called (INVALID_ARGUMENT naming the field); unknown clusters and endpoints
 * are NOT_FOUND; HealthmeshErrors keep their code; anything else is INTERNAL without details.
 * Register/Deregister need an operator (or the admin) bearer token: UNAUTHENTICATED without a valid
 * one, PERMISSION_DENIED for another role. Watch streams are capped in number and in total backlog.
 */
export class StatusService {
  private readonly ops: Operations;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly backlog: number;
  private readonly maxWatchers: number;
  private readonly budget: WatchBudget;
  private readonly watches = new Set<WatchStream>();
  private stopped = false;

  constructor(private readonly opts: StatusServiceOptions) {
    this.ops = opts.ops;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.backlog = Math.max(1, opts.config.watchBacklog ?? DEFAULT_WATCH_BACKLOG);
    this.maxWatchers = Math.max(1, opts.config.maxWatchers ?? DEFAULT_MAX_WATCHERS);
    this.budget = new WatchBudget(opts.config.maxWatchBacklogBytes ?? DEFAULT_MAX_WATCH_BACKLOG_BYTES);
  }

  /** Bytes queued across every Watch stream (estimated). */
  get watchBacklogBytes(): number {
    return this.budget.total;
  }

  /** Open Watch streams. */
  get activeWatches(): number {
    return this.watches.size;
  }

  register(server: grpc.Server): void {
    server.addService(statusServiceDefinition(), {
      ListClusters: this.unary('ListClusters', undefined, () => ({ clusters: this.ops.clusters().map(clusterToWire), degraded: this.ops.degraded?.() ?? [] })),
      ListEndpoints: this.unary('ListEndpoints', undefined, (req) => {
        const filter = validateListEndpoints(req);
        if (filter.cluster !== undefined) this.requireCluster(filter.cluster);
        return { endpoints: this.ops.endpoints(filter).map(endpointToWire) };
      }),
      GetEndpoint: this.unary('GetEndpoint', undefined, (req) => {
        const { ref, history } = validateGetEndpoint(req, this.opts.config.historyLimit);
        this.requireCluster(ref.cluster);
        const endpoint = this.ops.endpoint(ref.key);
        if (!endpoint) throw new NotFoundError(`endpoint "${ref.key}"`);
        return { endpoint: endpointToWire(endpoint), history: this.ops.history(ref.key, history).map(historyToWire) };
      }),
      RegisterEndpoint: this.unary('RegisterEndpoint', 'operator', async (req, who) => {
        const reg = validateRegister(req);
        this.requireCluster(reg.cluster);
        const { created, endpoint } = await this.ops.register(reg);
        this.log.info({ endpoint: endpoint.key, created, by: who?.name }, 'endpoint registered');
        return { created, endpoint: endpointToWire(endpoint) };
      }),
      DeregisterEndpoint: this.unary('DeregisterEndpoint', 'operator', async (req, who) => {
        const ref = validateDeregister(req);
        this.requireCluster(ref.cluster);
        const { removed } = await this.ops.deregister(ref.cluster, ref.address, ref.port);
        this.log.info({ endpoint: ref.key, removed, by: who?.name }, 'endpoint deregistered');
        return { removed };
      }),
      ListProxies: this.unary('ListProxies', undefined, () => ({ proxies: this.ops.proxies().map(proxyToWire) })),
      ListAlerts: this.unary('ListAlerts', undefined, (req) => ({ alerts: this.ops.alerts(validateListAlerts(req)).map(alertToWire) })),
      Watch: (call: grpc.ServerWritableStream<Decoded<WatchRequestWire>, WatchEventWire>) => this.watch(call),
    });
  }

  /** Ends every Watch stream (UNAVAILABLE) and refuses new ones. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const w of [...this.watches]) w.fail(grpc.status.UNAVAILABLE, 'healthmesh is shutting down; call Watch again once it is back');
    this.watches.clear();
  }

  private requireCluster(name: string): void {
    if (!this.ops.clusters().some((c) => c.name === name)) throw new NotFoundError(`cluster "${name}"`);
  }

  /** A unary handler; with `role`, the caller's bearer token is checked first (before the request is even looked at). */
  private unary<M extends StatusUnaryMethod>(
    method: M,
    role: AuthRole | undefined,
    handle: Handler<M>,
  ): grpc.handleUnaryCall<Decoded<StatusRequestDecoded<M>>, StatusResponse<M>> {
    return (call, cb) => {
      let who: Identity | undefined;
      try {
        if (role) who = authorizeCall(this.opts.auth, call, role, method);
      } catch (err) {
        cb(toGrpcStatus(err, this.log, method));
        return;
      }
      const req = call.request;
      if (isMalformed(req)) {
        this.log.warn({ method, error: req.malformed }, 'undecodable request refused');
        cb({ code: grpc.status.INVALID_ARGUMENT, details: `request: not a valid healthmesh.v1.${method}Request` });
        return;
      }
      Promise.resolve()
        .then(() => handle(req ?? {}, who))
        .then(
          (res) => cb(null, res),
          (err: unknown) => cb(toGrpcStatus(err, this.log, method)),
        );
    };
  }

  private watch(call: grpc.ServerWritableStream<Decoded<WatchRequestWire>, WatchEventWire>): void {
    const refuse = (status: Partial<grpc.StatusObject>): void => {
      call.emit('error', Object.assign(new Error(status.details), status));
    };
    const req = call.request;
    if (isMalformed(req)) return refuse({ code: grpc.status.INVALID_ARGUMENT, details: 'request: not a valid healthmesh.v1.WatchRequest' });
    if (this.stopped) return refuse({ code: grpc.status.UNAVAILABLE, details: 'healthmesh is shutting down' });
    if (this.watches.size >= this.maxWatchers) {
      this.log.warn({ peer: call.getPeer(), maxWatchers: this.maxWatchers }, 'Watch refused: too many open Watch streams');
      return refuse({
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: `watch: ${this.maxWatchers} Watch streams are open already (status.maxWatchers); try again later`,
      });
    }
    let cluster: string | undefined;
    try {
      cluster = validateWatch(req ?? {}).cluster;
      if (cluster !== undefined) this.requireCluster(cluster);
    } catch (err) {
      return refuse(toGrpcStatus(err, this.log, 'Watch'));
    }
    const stream = new WatchStream(call, {
      ops: this.ops,
      logger: this.log,
      now: this.now,
      cluster,
      backlog: this.backlog,
      budget: this.budget,
      onClose: (w) => this.watches.delete(w),
    });
    this.watches.add(stream);
    stream.start();
  }
}
