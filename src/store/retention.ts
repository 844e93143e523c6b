import type { StoreConfig } from '../config/schema.js';
import { silentLogger, type Logger } from '../log.js';
import type { RetentionPolicy, Store } from './types.js';

const HOUR = 3_600_000;

export type CleanupResult = ReturnType<Store['cleanup']>;

export function retentionFromConfig(config: Pick<StoreConfig, 'retention'>): RetentionPolicy {
  return {
    historyMs: config.retention.historyHours * HOUR,
    fullResolutionMs: config.retention.fullResolutionHours * HOUR,
    alertsMs: config.retention.alertsHours * HOUR,
  };
}

export interface RetentionJobOptions {
  logger?: Logger | undefined;
  now?: (() => number) | undefined;
}

/**
 * Runs `store.cleanup` every `cleanupIntervalMs` with the configured retention. Cleanup is
 * synchronous, so nothing is in flight between ticks: `stop()` only has to clear the timer.
 * A failing cleanup is logged and retried at the next tick; it never throws out of the timer.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private readonly retention: RetentionPolicy;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly config: Pick<StoreConfig, 'retention' | 'cleanupIntervalMs'>,
    opts: RetentionJobOptions = {},
  ) {
    this.retention = retentionFromConfig(config);
    this.log = (opts.logger ?? silentLogger()).child({ component: 'retention' });
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.runOnce(), this.config.cleanupIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One cleanup now; `undefined` when it failed (and was logged). */
  runOnce(): CleanupResult | undefined {
    const started = performance.now();
    try {
      const result = this.store.cleanup(this.now(), this.retention);
      const ms = Math.round(performance.now() - started);
      const changed = result.historyDeleted + result.historyDownsampled + result.alertsDeleted > 0;
      this.log[changed ? 'info' : 'debug']({ ...result, ms }, 'retention cleanup');
      return result;
    } catch (err) {
      this.log.error({ err }, 'retention cleanup failed; retrying at the next interval');
      return undefined;
    }
  }
}
