/**
 * The admin HTTP endpoint (fastify): health and readiness probes, status / proxies / config / alerts
 * views, Prometheus /metrics, and bearer-token-guarded mutations (drain, recheck, alert ack).
 * Loopback by default; JSON errors `{ error: { code, message, field? } }`; never logs the token.
 */
import type { AddressInfo } from 'node:net';
import { lazyDependencyOf } from '../lazy-module.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { AdminConfig } from '../config/schema.js';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HealthmeshMetrics } from '../metrics.js';
import type { Operations } from '../operations.js';
import { checkBearer, resolveToken } from './auth.js';
import { AdminHttpError, toErrorReply } from './errors.js';
import { registerAdminRoutes } from './routes.js';

/** Hook for modules that add routes (the reports module mounts `GET /reports/:type`). Called once, before listening. */
export interface ReportsHandler {
  registerRoutes(app: FastifyInstance): void | Promise<void>;
}

export interface AdminServerOptions {
  ops: Operations;
  metrics: HealthmeshMetrics;
  config: AdminConfig;
  logger: Logger;
  reports?: ReportsHandler | undefined;
  /** Where `config.tokenEnv` is looked up; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Largest accepted request body in bytes; default 4 KiB (mutations carry at most a tiny JSON object). */
  bodyLimit?: number;
}

export const DEFAULT_BODY_LIMIT = 4096;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Whatever the parent logger redacts, the admin logger redacts credentials itself. */
const REDACT = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'headers.cookie',
  'req.headers.cookie',
];

export function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || !host || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('admin.listen', `must be host:port (got ${JSON.stringify(listen)})`);
  return { host, port };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

export class AdminServer {
  private readonly app: FastifyInstance;
  private readonly log: FastifyBaseLogger;
  private readonly token: string | undefined;
  private readonly listen: { host: string; port: number };
  private starting: Promise<{ port: number; address: string }> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: AdminServerOptions) {
    this.listen = parseListen(opts.config.listen);
    const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.log = opts.logger.child({ component: 'admin' }, { redact: { paths: REDACT, censor: '[redacted]' } });
    const source = resolveToken(opts.config, opts.env ?? process.env);
    this.token = source.token;
    if (source.token === undefined && source.problem) this.log.warn(`${source.problem}; admin mutations are refused`);

    const app = Fastify({
      loggerInstance: this.log,
      // Requests are logged once, at debug, by the onResponse hook below (a scrape every 15 s is not news).
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit,
      requestTimeout: 30_000,
      return503OnClosing: true,
      routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
      frameworkErrors: (err, _req, reply) => {
        void this.sendError(reply, err, bodyLimit);
      },
      // The routes validate with zod (validate.ts), not JSON schemas: fastify's default compilers (ajv,
      // fast-json-stringify; ~10 MiB of RSS) are loaded only if a route ever declares a schema.
      schemaController: {
        compilersFactory: { buildValidator: lazyCompiler('@fastify/ajv-compiler'), buildSerializer: lazyCompiler('@fastify/fast-json-stringify-compiler') },
      },
    });
    this.app = app;

    // Bodies: JSON only, and an empty JSON body is no body (curl -X POST -H 'content-type: application/json').
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      const text = String(body).trim();
      if (text === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new InvalidArgumentError('body', 'is not valid JSON'), undefined);
      }
    });

    app.addHook('onSend', async (_req, reply, payload) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
      return payload;
    });
    app.addHook('onResponse', async (req, reply) => {
      this.log.debug(
        { method: req.method, route: req.routeOptions.url ?? null, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'admin request',
      );
    });

    app.setErrorHandler((err: FastifyError, _req, reply) => this.sendError(reply, err, bodyLimit));
    app.setNotFoundHandler((req, reply) => {
      const path = req.url.split('?')[0] ?? '/';
      const allowed = METHODS.filter((m) => m !== req.method && app.findRoute({ method: m, url: path }) !== null);
      const err = allowed.length
        ? new AdminHttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allowed.join(', ')}`, { allow: allowed.join(', ') })
        : new AdminHttpError(404, 'NOT_FOUND', 'no such route');
      return this.sendError(reply, err, bodyLimit);
    });

    registerAdminRoutes(app, {
      ops: opts.ops,
      metrics: opts.metrics,
      log: this.log,
      requireToken: async (req) => checkBearer(this.token, req.headers.authorization),
    });
  }

  /** Whether mutations are possible (a token is configured). */
  get mutationsEnabled(): boolean {
    return this.token !== undefined;
  }

  start(): Promise<{ port: number; address: string }> {
    if (this.stopping) return Promise.reject(new Error('admin server is stopped'));
    if (!this.opts.config.enabled) return Promise.reject(new Error('admin server is disabled in the configuration (admin.enabled: false)'));
    this.starting ??= this.doStart();
    return this.starting;
  }

  /** Idempotent; waits for in-flight requests, closes idle keep-alive connections. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.app.close();
      if (this.starting) this.log.info('admin HTTP stopped');
    })();
    return this.stopping;
  }

  private async doStart(): Promise<{ port: number; address: string }> {
    if (this.opts.reports) await this.opts.reports.registerRoutes(this.app);
    await this.app.listen({ host: this.listen.host, port: this.listen.port, listenTextResolver: (address) => `admin HTTP listening at ${address}` });
    const addr = this.app.server.address() as AddressInfo;
    this.log.info(this.token ? 'admin mutations enabled (token required)' : 'admin mutations disabled: no admin token configured');
    if (!isLoopback(this.listen.host))
      this.log.warn({ address: addr.address }, 'admin HTTP is bound to a non-loopback address: status, config and metrics are readable without a token');
    return { port: addr.port, address: addr.address };
  }

  private sendError(reply: FastifyReply, err: unknown, bodyLimit: number): FastifyReply {
    const r = toErrorReply(err, bodyLimit);
    if (r.internal) this.log.error({ err }, 'admin request failed');
    else if (r.logDetail) this.log.error({ code: r.body.error.code, error: r.logDetail }, 'admin request failed');
    for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...r.headers })) reply.header(name, value);
    return reply.code(r.statusCode).type('application/json; charset=utf-8').send(r.body);
  }
}

/** One of fastify's default schema compiler factories, loaded (from fastify's own dependencies) on first use. */
function lazyCompiler<F extends (...args: never[]) => unknown>(pkg: string): F {
  const load = lazyDependencyOf<() => F>('fastify', pkg);
  let build: F | undefined;
  return ((...args: Parameters<F>) => (build ??= load()())(...args)) as F;
}
