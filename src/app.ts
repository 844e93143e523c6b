import { ProbeScheduler, createChecker, type Checker } from './checks/index.js';
import type { Config } from './config/schema.js';
import type { ProbeOutcome } from './core/model.js';
import { createControlPlane, type ControlPlane } from './controlplane.js';
import { HealthEngine } from './health/engine.js';
import { silentLogger, type Logger } from './log.js';
import { AgentIntake } from './signals/agent-intake.js';
import { LrsService } from './signals/lrs.js';

export interface HealthmeshOptions {
  logger?: Logger;
  now?: () => number;
  /** Directory that relative paths in the config (custom check modules) are resolved against. */
  configDir?: string;
}

export interface Healthmesh {
  readonly controlPlane: ControlPlane;
  readonly engine: HealthEngine;
  readonly scheduler: ProbeScheduler;
  /** Observe every completed probe (metrics, tests). */
  onProbe(listener: (id: string, outcome: ProbeOutcome) => void): () => void;
  start(): Promise<{ xdsPort: number }>;
  reload(config: Readonly<Config>): void;
  stop(): Promise<void>;
}

/**
 * Everything wired together: xDS control plane, probe scheduler and checkers, LRS and agent
 * heartbeat intake on the xDS port, and the health engine in the middle.
 */
export function createHealthmesh(initial: Readonly<Config>, opts: HealthmeshOptions = {}): Healthmesh {
  const logger = opts.logger ?? silentLogger();
  const now = opts.now ?? Date.now;
  let config = initial;
  let engine: HealthEngine | undefined;
  const probeListeners = new Set<(id: string, outcome: ProbeOutcome) => void>();

  const lrs = new LrsService({ config: config.lrs, logger: logger.child({ component: 'lrs' }), now, onTraffic: (key, sample) => engine?.onTraffic(key, sample) });
  const agents = new AgentIntake({
    logger: logger.child({ component: 'agents' }),
    now,
    intervalMs: Math.max(1000, Math.floor(config.agents.heartbeatTimeoutMs / 3)),
    onHeartbeat: (hb) => engine?.onHeartbeat(hb) ?? { accepted: 0 },
  });
  const controlPlane = createControlPlane(config, {
    logger,
    now,
    extend: (server) => {
      lrs.register(server);
      agents.register(server);
    },
  });
  let checker: Checker = newChecker(config);
  const scheduler = new ProbeScheduler({
    run: (target, check, runOpts) => checker.run(target, check, runOpts),
    onResult: (id, outcome) => {
      engine?.onProbe(id, outcome);
      for (const l of probeListeners) l(id, outcome);
    },
    concurrency: config.health.probeConcurrency,
    now,
    logger: logger.child({ component: 'scheduler' }),
  });
  engine = new HealthEngine({ config, topology: controlPlane.topology, prober: scheduler, logger: logger.child({ component: 'engine' }), now });

  function newChecker(c: Readonly<Config>): Checker {
    return createChecker({ allowTargets: c.health.allowTargets, baseDir: opts.configDir ?? process.cwd(), logger });
  }

  let stopped = false;
  return {
    controlPlane,
    engine,
    scheduler,
    onProbe(listener) {
      probeListeners.add(listener);
      return () => probeListeners.delete(listener);
    },
    async start() {
      engine!.start();
      controlPlane.topology.publishNow();
      const { port } = await controlPlane.start();
      scheduler.start();
      return { xdsPort: port };
    },
    reload(next) {
      const allowChanged = JSON.stringify(next.health.allowTargets) !== JSON.stringify(config.health.allowTargets);
      config = next;
      controlPlane.reload(next);
      if (allowChanged) {
        const old = checker;
        checker = newChecker(next);
        void old.close();
      }
      engine!.reload(next);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      engine!.stop();
      lrs.stop();
      await scheduler.stop();
      await controlPlane.stop();
      await checker.close();
    },
  };
}
