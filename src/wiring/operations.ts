import { alertInputOf } from '../alerts/input.js';
import { AlertManager } from '../alerts/manager.js';
import type { RunCheck } from '../checks/index.js';
import type { Config } from '../config/schema.js';
import type { HealthEngine } from '../health/engine.js';
import type { Logger } from '../log.js';
import type { Membership } from '../membership/registry.js';
import { createMetrics, type HealthmeshMetrics } from '../metrics.js';
import { leaderWebhook, type LeaderWebhook } from '../replication/alerts-leader.js';
import type { Replication } from '../replication/wiring.js';
import { clusterSnapshots, HealthmeshService } from '../service.js';
import { HistoryRecorder, type Store } from '../store/index.js';
import type { ControlPlane } from '../controlplane.js';
import type { ProbeFeed } from './probe-feed.js';

export interface OperationsParts {
  alerts: AlertManager;
  /** Replicated: the webhook that only the leader posts to. */
  leaderHook: LeaderWebhook | undefined;
  service: HealthmeshService;
  metrics: HealthmeshMetrics;
  history: HistoryRecorder;
}

/** Alerts, the operations facade over the running parts (what status, admin and reports call), metrics and history. */
export function createOperations(
  config: Readonly<Config>,
  deps: {
    logger: Logger;
    now: () => number;
    current: () => Readonly<Config>;
    store: Store;
    membership: Membership;
    engine: HealthEngine;
    controlPlane: ControlPlane;
    runCheck: RunCheck;
    probes: ProbeFeed;
    replication: Replication | undefined;
  },
): OperationsParts {
  const { logger, now, current, store, engine, replication, controlPlane } = deps;
  // Replicated: every replica evaluates alerts, only the leader posts them to the webhook.
  const alerts = new AlertManager({
    config: managerAlertsConfig(config.alerts, replication !== undefined),
    logger: logger.child({ component: 'alerts' }),
    store,
    now,
    input: alertInputOf({ engine, clusters: () => clusterSnapshots(current(), engine), ledger: controlPlane.ledger }),
  });
  const leaderHook = replication ? leaderWebhook(alerts, config.alerts, replication.leadership(), logger.child({ component: 'alerts' }), now) : undefined;
  const service = new HealthmeshService({
    config: current,
    engine,
    membership: deps.membership,
    ledger: controlPlane.ledger,
    alerts,
    store,
    runCheck: deps.runCheck,
    onProbe: deps.probes.emit,
    // Ready once the first snapshot is published.
    ready: () => controlPlane.cache.current() !== undefined,
    now,
    ...(replication ? { replica: replication, degraded: () => replication.degraded() } : {}),
  });
  const metrics = createMetrics(service);
  deps.probes.on((id, outcome) => metrics.observeProbe(engine.probeKind(id), outcome));
  const history = new HistoryRecorder({
    sample: (at, keys) => service.historyPoints(at, keys),
    store,
    logger,
    now,
    intervalMs: config.store.sampleIntervalMs,
  });
  return { alerts, leaderHook, service, metrics, history };
}

/** The AlertManager's own config: replicated, it has no webhook (the leader's sink posts; see alerts-leader.ts). */
export function managerAlertsConfig(alerts: Config['alerts'], replicated: boolean): Config['alerts'] {
  return replicated ? { ...alerts, webhook: undefined } : alerts;
}
