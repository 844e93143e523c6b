import type { AlertManager } from '../alerts/manager.js';
import type { ProbeScheduler } from '../checks/index.js';
import type { Config } from '../config/schema.js';
import type { ControlPlane } from '../controlplane.js';
import type { ProbeOutcome } from '../core/model.js';
import type { HealthEngine } from '../health/engine.js';
import type { Logger } from '../log.js';
import type { HealthmeshMetrics } from '../metrics.js';
import type { Replication } from '../replication/wiring.js';
import type { HealthmeshService } from '../service.js';
import type { Store } from '../store/index.js';

/** What createHealthmesh (src/app.ts) takes and returns. */
export interface HealthmeshOptions {
  logger?: Logger;
  now?: () => number;
  /** Directory that relative paths in the config (custom check modules, the store) are resolved against. */
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
