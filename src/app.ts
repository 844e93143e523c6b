import { isAbsolute, resolve } from 'node:path';
import { Server } from '@grpc/grpc-js';
import { AdminServer } from './admin/server.js';
import { adsAdmission, Authenticator, serverCredentials, warnIfExposedPlaintext } from './auth/index.js';
import { alertInputOf } from './alerts/input.js';
import { AlertManager } from './alerts/manager.js';
import { ProbeScheduler, createChecker, type Checker } from './checks/index.js';
import type { Config } from './config/schema.js';
import { createControlPlane, type ControlPlane } from './controlplane.js';
import type { ProbeOutcome } from './core/model.js';
import { HealthmeshError } from './errors.js';
import { HealthEngine, type ForwardedSignal, type SharedDecision } from './health/engine.js';
import { Membership } from './membership/registry.js';
import { AssignmentJournal } from './store/assignment-journal.js';
import { assignedEndpoints } from './xds/endpoint-source.js';
import { silentLogger, type Logger } from './log.js';
import { createMetrics, xdsTypeShort, type HealthmeshMetrics } from './metrics.js';
import { createReportsHandler } from './reports/routes.js';
import { ReportScheduler } from './reports/scheduler.js';
import { HealthmeshService } from './service.js';
import { AgentIntake } from './signals/agent-intake.js';
import { LrsService } from './signals/lrs.js';
import { registerSelfServices, type SelfServices } from './status/health.js';
import { StatusService } from './status/service.js';
import { openStore, RetentionJob, type Store } from './store/index.js';
import { PUSH_ORDER } from './xds/protos.js';
import { createReplication, type Replication } from './replication/wiring.js';
import { leaderWebhook } from './replication/alerts-leader.js';

export interface HealthmeshOptions {
  logger?: Logger;
  now?: () => number;
  /** Directory that relative paths in the config (custom check modules) are resolved against. */
  configDir?: string;
  /** Use this store instead of opening `config.store.path` (it is closed on stop either way). */
  store?: Store;
}

export interface Healthmesh {
  readonly controlPlane: ControlPlane;
  readonly engine: HealthEngine;
  readonly scheduler: ProbeScheduler;
  readonly service: HealthmeshService;
  readonly alerts: AlertManager;
  readonly metrics: HealthmeshMetrics;
  readonly store: Store;
  /** Present in replicated mode (`replication:` configured): etcd status, ownership, leader. */
  readonly replication: Replication | undefined;
  /** Observe every completed probe (metrics, tests). */
  onProbe(listener: (id: string, outcome: ProbeOutcome) => void): () => void;
  start(): Promise<{ xdsPort: number; adminPort?: number | undefined; statusPort: number }>;
  reload(config: Readonly<Config>): void;
  /** Record every endpoint's current state in the history now. */
  recordHistory(): void;
  stop(): Promise<void>;
}

/**
 * The composition root: store, xDS control plane, probes, passive signals and agents, the health
 * engine, alerts, the operations facade and its adapters (status gRPC, admin HTTP, metrics).
 */
export function createHealthmesh(initial: Readonly<Config>, opts: HealthmeshOptions = {}): Healthmesh {
  const logger = opts.logger ?? silentLogger();
  const now = opts.now ?? Date.now;
  let config = initial;
  let published = false;
  // A relative store path is relative to the config file, like every other path in it.
  const storePath =
    config.store.path === ':memory:' || config.store.path === '' || isAbsolute(config.store.path)
      ? config.store.path
      : resolve(opts.configDir ?? process.cwd(), config.store.path);
  const store = opts.store ?? openStore({ path: storePath }, { logger });
  const probeListeners = new Set<(id: string, outcome: ProbeOutcome) => void>();

  // The engine, service and status service are created below the control plane that serves them;
  // the closures here run only after start(), when they exist.
  let self: SelfServices | undefined;
  let statusServer: Server | undefined;

  // Bearer tokens for the write RPCs (status Register/Deregister, agent Heartbeat, LRS; ADS when auth.requireProxyToken).
  const auth = new Authenticator(config.auth, config.admin, process.env, logger.child({ component: 'auth' }));
  const lrs = new LrsService({
    config: config.lrs,
    logger: logger.child({ component: 'lrs' }),
    now,
    onTraffic: (key, sample) => engine.onTraffic(key, sample),
    auth,
    hasAdsStream: (nodeId) => controlPlane.ledger.hasOpenStream(nodeId),
  });
  const agents = new AgentIntake({
    auth,
    logger: logger.child({ component: 'agents' }),
    now,
    intervalMs: Math.max(1000, Math.floor(config.agents.heartbeatTimeoutMs / 3)),
    onHeartbeat: (hb) => engine.onHeartbeat(hb),
  });
  // Replicated mode (opt-in): membership, decisions and drains shared through etcd; see src/replication/wiring.ts.
  const replication = config.replication
    ? createReplication({ config: config.replication, logger: logger.child({ component: 'replication' }), now })
    : undefined;
  const replicated = replication
    ? {
        owns: (key: string) => replication.owns(key),
        onOwnDecision: (key: string, v: SharedDecision) => replication.share(key, v),
        onForeignSignal: (key: string, s: ForwardedSignal) => replication.forward(key, s),
      }
    : {};

  const membership = new Membership(config);
  let checker: Checker = newChecker(config);
  const scheduler = new ProbeScheduler({
    run: (target, check, runOpts) => checker.run(target, check, runOpts),
    onResult: (id, outcome) => onProbe(id, outcome),
    concurrency: config.health.probeConcurrency,
    now,
    logger: logger.child({ component: 'scheduler' }),
  });
  const engine = new HealthEngine({ config, membership, prober: scheduler, logger: logger.child({ component: 'engine' }), now, ...replicated });
  const journal = new AssignmentJournal(store, { logger: logger.child({ component: 'journal' }), now });
  const controlPlane = createControlPlane(config, {
    logger,
    now,
    versionFloor: store.versionFloor(),
    admitAds: adsAdmission(auth, () => config.auth.requireProxyToken),
    // EDS = membership × assignment; the assignment is written ahead of every snapshot that publishes it.
    endpoints: assignedEndpoints(membership, (key) => engine.published(key)?.decision),
    beforePublish: (next) => journal.flush(next.version),
    // Replicas serve identical versions for identical content.
    contentVersions: replication !== undefined,
    extend: (server) => {
      lrs.register(server);
      agents.register(server);
      if (!config.status.listen) {
        status.register(server);
        self = registerSelfServices(server, { ops: service, logger: logger.child({ component: 'grpc-health' }) });
      }
    },
  });

  // Replicated: every replica evaluates alerts, only the leader posts them to the webhook.
  const alerts = new AlertManager({
    config: replication ? { ...config.alerts, webhook: undefined } : config.alerts,
    logger: logger.child({ component: 'alerts' }),
    store,
    now,
    input: alertInputOf({ engine, clusters: () => service.clusters(), ledger: controlPlane.ledger }),
  });
  const leaderHook = replication ? leaderWebhook(alerts, config.alerts, () => replication.isLeader(), logger.child({ component: 'alerts' })) : undefined;
  const service: HealthmeshService = new HealthmeshService({
    config: () => config,
    engine,
    membership,
    ledger: controlPlane.ledger,
    alerts,
    store,
    runCheck: (target, check, runOpts) => checker.run(target, check, runOpts),
    onProbe: (id, outcome) => onProbe(id, outcome),
    ready: () => published,
    now,
    ...(replication ? { replica: replication, degraded: () => replication.degraded() } : {}),
  });
  replication?.bind({ engine, membership, service });
  const status = new StatusService({ ops: service, logger: logger.child({ component: 'status' }), config: config.status, auth, now });
  const metrics = createMetrics(service);
  // Reports judge metrics against the same limits the health engine uses.
  const reportOptions = {
    logger,
    now,
    thresholds: {
      score: config.health.scoring.degradedBelow,
      cpuPercent: config.agents.cpuPercentMax,
      memoryPercent: config.agents.memoryPercentMax,
      diskPercent: config.agents.diskPercentMax,
      errorRate: config.health.scoring.passiveErrorRateFail,
    },
  };
  const admin = config.admin.enabled
    ? new AdminServer({ ops: service, metrics, config: config.admin, logger, reports: createReportsHandler(service, store, reportOptions) })
    : undefined;
  const reportScheduler =
    config.reports.schedule.length > 0
      ? new ReportScheduler({ config: config.reports, source: { store, ops: service }, logger, now, build: { thresholds: reportOptions.thresholds } })
      : undefined;
  const retention = new RetentionJob(store, config.store, { logger, now });

  // Signals that move alerts, metrics and history.
  engine.onEvent((e) => {
    if (e.kind === 'assignment') {
      journal.stage(e.changed, e.removed);
      controlPlane.topology.changed();
      return;
    }
    alerts.schedule();
    if (e.kind === 'endpoint') changedKeys.add(e.endpoint.key);
    scheduleHistory();
  });
  controlPlane.ledger.onEvent((e) => {
    metrics.observeLedger(e);
  });
  controlPlane.ledger.onNackedChange(() => alerts.schedule());
  alerts.onAlert((a, kind) => {
    if (kind === 'fired') metrics.observeAlert(a.level);
  });
  controlPlane.cache.subscribe((next, prev) => {
    published = true;
    const streams = controlPlane.xds.streamCount();
    for (const t of PUSH_ORDER) if (next.types[t] !== prev?.types[t]) metrics.observePush(xdsTypeShort(t)!, streams);
  });

  // History: every endpoint at sampleIntervalMs, and each endpoint whenever its decision changes.
  const changedKeys = new Set<string>();
  let historyTimer: NodeJS.Timeout | undefined;
  let historyFlush: NodeJS.Timeout | undefined;
  function scheduleHistory(): void {
    historyFlush ??= setTimeout(() => {
      historyFlush = undefined;
      const keys = [...changedKeys];
      changedKeys.clear();
      write(service.historyPoints(now(), keys));
    }, 100);
  }
  function recordHistory(): void {
    write(service.historyPoints(now()));
  }
  function write(points: ReturnType<HealthmeshService['historyPoints']>): void {
    if (points.length === 0) return;
    try {
      store.appendHistory(points);
    } catch (err) {
      logger.error({ err }, 'could not record health history');
    }
  }

  function onProbe(id: string, outcome: ProbeOutcome): void {
    engine.onProbe(id, outcome);
    const check = id.startsWith('dep:') ? undefined : engine.probeJob(id)?.check;
    metrics.observeProbe(check ? (check.http ? 'http' : check.tcp ? 'tcp' : check.grpc ? 'grpc' : 'custom') : 'dependency', outcome);
    for (const l of probeListeners) l(id, outcome);
  }

  function newChecker(c: Readonly<Config>): Checker {
    return createChecker({ allowTargets: c.health.allowTargets, baseDir: opts.configDir ?? process.cwd(), logger });
  }

  let stopped = false;
  return {
    controlPlane,
    engine,
    scheduler,
    service,
    alerts,
    metrics,
    store,
    replication,
    onProbe(listener) {
      probeListeners.add(listener);
      return () => probeListeners.delete(listener);
    },
    async start() {
      const began = now();
      // Replicated: registrations and the owners' decisions come from etcd (the local store is not the truth).
      const registrations = replication ? (await replication.start(), 0) : service.restoreRegistrations();
      const restored = engine.restore(store.assignments());
      engine.start();
      replication?.afterEngineStart();
      scheduler.start();
      // Like Envoy's cluster warming: endpoints new to healthmesh are not served before their first
      // check; give the first round a bounded time so a cold start does not begin with empty clusters.
      await engine.warmedUp(config.health.warmupTimeoutMs);
      controlPlane.topology.publishNow();
      logger.info({ registrations, assignments: restored, ms: now() - began }, 'state restored; first snapshot published');
      const { port: xdsPort } = await controlPlane.start().catch((err: Error) => {
        throw new HealthmeshError('UNAVAILABLE', `xds: cannot listen on ${config.xds.listen}: ${err.message}`);
      });
      let statusPort = xdsPort;
      if (config.status.listen) {
        statusServer = new Server();
        status.register(statusServer);
        self = registerSelfServices(statusServer, { ops: service, logger: logger.child({ component: 'grpc-health' }) });
        statusPort = await new Promise<number>((resolve, reject) =>
          statusServer!.bindAsync(config.status.listen!, serverCredentials(config.xds.tls), (err, port) => (err ? reject(err) : resolve(port))),
        );
        warnIfExposedPlaintext(config.status.listen, config.xds.tls, logger, 'the status gRPC port (status.listen)');
      }
      alerts.start();
      retention.start();
      reportScheduler?.start();
      recordHistory();
      historyTimer = setInterval(recordHistory, config.store.sampleIntervalMs);
      historyTimer.unref();
      const adminInfo = admin
        ? await admin.start().catch((err: Error) => {
            throw new HealthmeshError('UNAVAILABLE', `admin: cannot listen on ${config.admin.listen}: ${err.message}`);
          })
        : undefined;
      logger.info({ xdsPort, statusPort, adminPort: adminInfo?.port }, 'healthmesh started');
      return { xdsPort, statusPort, adminPort: adminInfo?.port };
    },
    reload(next) {
      // All or nothing: everything that can fail (the new checker) is built before anything changes;
      // the loader already validated the whole file (src/config/load.ts).
      const allowChanged = JSON.stringify(next.health.allowTargets) !== JSON.stringify(config.health.allowTargets);
      const nextChecker = allowChanged ? newChecker(next) : undefined;
      config = next;
      auth.reload(next.auth, next.admin);
      membership.replaceConfig(next);
      controlPlane.reload(next);
      if (nextChecker) {
        const old = checker;
        checker = nextChecker;
        void old.close();
      }
      engine.reload(next);
    },
    recordHistory,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (historyTimer) clearInterval(historyTimer);
      if (historyFlush) clearTimeout(historyFlush);
      retention.stop();
      await reportScheduler?.stop();
      engine.stop();
      await replication?.stop();
      journal.stop();
      status.stop();
      self?.stop();
      lrs.stop();
      await admin?.stop();
      await alerts.stop();
      await leaderHook?.stop();
      await scheduler.stop();
      if (statusServer) statusServer.forceShutdown();
      await controlPlane.stop();
      await checker.close();
      store.close();
    },
  };
}
