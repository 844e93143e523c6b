import { createChecker, ProbeScheduler, SwappableChecker } from '../checks/index.js';
import type { Config } from '../config/schema.js';
import { HealthEngine, type ForwardedSignal, type SharedDecision } from '../health/engine.js';
import type { Logger } from '../log.js';
import { Membership } from '../membership/registry.js';
import type { Replication } from '../replication/wiring.js';
import { ProbeFeed } from './probe-feed.js';

export interface HealthParts {
  membership: Membership;
  checker: SwappableChecker;
  /** Every completed probe; the engine listens first. */
  probes: ProbeFeed;
  scheduler: ProbeScheduler;
  engine: HealthEngine;
}

/** Membership, active checks and the health engine that decides from their results. */
export function createHealth(
  config: Readonly<Config>,
  deps: { logger: Logger; now: () => number; baseDir: string; replication: Replication | undefined },
): HealthParts {
  const { logger, now, replication } = deps;
  const membership = new Membership(config);
  const checker = new SwappableChecker({ allowTargets: config.health.allowTargets, baseDir: deps.baseDir, logger, create: createChecker });
  const probes = new ProbeFeed();
  const scheduler = new ProbeScheduler({
    run: checker.run,
    onResult: probes.emit,
    concurrency: config.health.probeConcurrency,
    now,
    logger: logger.child({ component: 'scheduler' }),
  });
  // Replicated: each endpoint is decided by its owner; the others read the owner's decision from etcd.
  const replicated = replication
    ? {
        owns: (key: string) => replication.owns(key),
        onOwnDecision: (key: string, v: SharedDecision) => replication.share(key, v),
        onForeignSignal: (key: string, s: ForwardedSignal) => replication.forward(key, s),
      }
    : {};
  const engine = new HealthEngine({ config, membership, prober: scheduler, logger: logger.child({ component: 'engine' }), now, ...replicated });
  probes.on((id, outcome) => engine.onProbe(id, outcome));
  return { membership, checker, probes, scheduler, engine };
}
