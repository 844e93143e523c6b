import { AdminServer } from '../admin/server.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { HealthmeshMetrics } from '../metrics.js';
import { createReportsHandler } from '../reports/routes.js';
import { ReportScheduler } from '../reports/scheduler.js';
import type { HealthmeshService } from '../service.js';
import { RetentionJob, type Store } from '../store/index.js';
import type { Component } from './lifecycle.js';

export interface HttpParts {
  /** The admin endpoint as a start/stop component (a no-op when admin.enabled is false); its port once listening. */
  admin: Component & { port(): number | undefined };
  reportScheduler: ReportScheduler | undefined;
  retention: RetentionJob;
}

/** The admin HTTP endpoint (status, metrics, reports), scheduled reports and history retention. */
export function createHttp(
  config: Readonly<Config>,
  deps: { logger: Logger; now: () => number; store: Store; service: HealthmeshService; metrics: HealthmeshMetrics },
): HttpParts {
  const { logger, now, store, service } = deps;
  // Reports judge metrics against the same limits the health engine uses.
  const thresholds = {
    score: config.health.scoring.degradedBelow,
    cpuPercent: config.agents.cpuPercentMax,
    memoryPercent: config.agents.memoryPercentMax,
    diskPercent: config.agents.diskPercentMax,
    errorRate: config.health.scoring.passiveErrorRateFail,
  };
  const server = config.admin.enabled
    ? new AdminServer({
        ops: service,
        metrics: deps.metrics,
        config: config.admin,
        logger,
        reports: createReportsHandler(service, store, { logger, now, thresholds }),
      })
    : undefined;
  let port: number | undefined;
  const admin = {
    name: 'admin',
    async start() {
      if (!server) return;
      const info = await server.start().catch((err: Error) => {
        throw new Error(`cannot listen on ${config.admin.listen}: ${err.message}`);
      });
      port = info.port;
    },
    stop: () => server?.stop(),
    port: () => port,
  };
  const reportScheduler =
    config.reports.schedule.length > 0
      ? new ReportScheduler({ config: config.reports, source: { store, ops: service }, logger, now, build: { thresholds } })
      : undefined;
  const retention = new RetentionJob(store, config.store, { logger, now });
  return { admin, reportScheduler, retention };
}
