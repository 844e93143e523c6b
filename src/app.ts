import { Authenticator } from './auth/index.js';
import type { Config } from './config/schema.js';
import { silentLogger } from './log.js';
import { sharedConfigDigest } from './config/digest.js';
import { createReplication } from './replication/wiring.js';
import { connectEvents } from './wiring/events.js';
import { serveGrpc } from './wiring/grpc-services.js';
import { createHealth } from './wiring/health.js';
import { createHttp } from './wiring/http.js';
import type { Healthmesh, HealthmeshOptions } from './wiring/healthmesh.js';
import { Lifecycle } from './wiring/lifecycle.js';
import { createOperations, managerAlertsConfig } from './wiring/operations.js';
import { openConfiguredStore } from './wiring/store.js';
import { createXds } from './wiring/xds.js';

export type { Healthmesh, HealthmeshOptions } from './wiring/healthmesh.js';

/** The composition root: builds the parts (src/wiring/*), connects their events, and starts and stops them in one order. */
export function createHealthmesh(initial: Readonly<Config>, opts: HealthmeshOptions = {}): Healthmesh {
  const logger = opts.logger ?? silentLogger();
  const now = opts.now ?? Date.now;
  const baseDir = opts.configDir ?? process.cwd();
  let config = initial;
  const current = (): Readonly<Config> => config;
  const store = opts.store ?? openConfiguredStore(config.store.path, baseDir, logger);
  // Bearer tokens for the write RPCs (status Register/Deregister, agent Heartbeat, LRS; ADS when auth.requireProxyToken).
  const auth = new Authenticator(config.auth, config.admin, process.env, logger.child({ component: 'auth' }));
  // Replicated mode (opt-in): membership, decisions and drains shared through etcd; see src/replication/wiring.ts.
  const replication = config.replication
    ? createReplication({ config: config.replication, logger: logger.child({ component: 'replication' }), now, configDigest: () => sharedConfigDigest(config) })
    : undefined;
  const { membership, checker, probes, scheduler, engine } = createHealth(config, { logger, now, baseDir, replication });
  const { grpc, journal, controlPlane } = createXds(config, { logger, now, current, store, auth, membership, engine, replicated: replication !== undefined });
  const operations = { logger, now, current, store, membership, engine, controlPlane, runCheck: checker.run, probes, replication };
  const { alerts, leaderHook, service, metrics, history } = createOperations(config, operations);
  replication?.bind({ engine, membership, service, ledger: controlPlane.ledger });
  const statusGrpc = serveGrpc(config, { logger, now, auth, engine, controlPlane, service, xdsHost: grpc, replication });
  const { admin, reportScheduler, retention } = createHttp(config, { logger, now, store, service, metrics });
  connectEvents({ engine, journal, controlPlane, alerts, history, metrics });

  const startup = { began: 0, registrations: 0, assignments: 0 };
  // Started in this order, stopped in reverse.
  const lifecycle = new Lifecycle(
    [
      { name: 'store', stop: () => store.close() },
      { name: 'checks', stop: () => checker.close() },
      // Replicated: registrations and the owners' decisions come from etcd (the local store is not the truth).
      ...(replication ? [{ name: 'replication', start: () => replication.start(), stop: () => replication.stop() }] : []),
      // Persistence and publishing stop after the engine, which feeds them until it stops.
      { name: 'journal', stop: () => journal.stop() },
      { name: 'snapshots', stop: () => controlPlane.stop() },
      {
        name: 'restore',
        start: () => {
          startup.registrations = replication ? 0 : service.restoreRegistrations();
          startup.assignments = engine.restore(store.assignments());
        },
      },
      {
        name: 'engine',
        start: () => {
          engine.start();
          replication?.afterEngineStart();
        },
        stop: () => engine.stop(),
      },
      { name: 'scheduler', start: () => scheduler.start(), stop: () => scheduler.stop() },
      // Like Envoy's cluster warming: endpoints new to healthmesh are not served before their first
      // check; give the first round a bounded time so a cold start does not begin with empty clusters.
      { name: 'warm-up', start: () => engine.warmedUp(config.health.warmupTimeoutMs) },
      {
        name: 'first snapshot',
        start: () => {
          controlPlane.topology.publishNow();
          const { registrations, assignments, began } = startup;
          logger.info({ registrations, assignments, ms: now() - began }, 'state restored; first snapshot published');
        },
      },
      { name: 'xds', start: () => grpc.start(), stop: () => grpc.stop() },
      ...(statusGrpc !== grpc ? [{ name: 'status', start: () => statusGrpc.start(), stop: () => statusGrpc.stop() }] : []),
      ...(leaderHook ? [{ name: 'alerts leader', stop: () => leaderHook.stop() }] : []),
      { name: 'alerts', start: () => alerts.start(), stop: () => alerts.stop() },
      { name: 'retention', start: () => retention.start(), stop: () => retention.stop() },
      { name: 'reports', start: () => reportScheduler?.start(), stop: () => reportScheduler?.stop() },
      { name: 'history', start: () => history.start(), stop: () => history.stop() },
      admin,
    ],
    logger,
  );

  return {
    controlPlane,
    engine,
    scheduler,
    service,
    alerts,
    metrics,
    store,
    replication,
    onProbe: (listener) => probes.on(listener),
    async start() {
      startup.began = now();
      await lifecycle.start();
      const ports = { xdsPort: grpc.port, statusPort: statusGrpc.port, adminPort: admin.port() };
      logger.info(ports, 'healthmesh started');
      return ports;
    },
    reload(next) {
      // All or nothing: what can fail (a new checker for changed allowTargets) comes first; the loader
      // already validated the whole file (src/config/load.ts).
      checker.setAllowTargets(next.health.allowTargets);
      config = next;
      auth.reload(next.auth, next.admin);
      membership.replaceConfig(next);
      controlPlane.reload(next);
      engine.reload(next);
      alerts.reload(managerAlertsConfig(next.alerts, replication !== undefined));
      leaderHook?.reload(next.alerts);
      replication?.configChanged();
    },
    recordHistory: () => history.recordAll(),
    stop: () => lifecycle.stop(),
  };
}
