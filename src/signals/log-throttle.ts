import type { Logger } from '../log.js';

/**
 * Logs a repeated failure at most once per `everyMs`: the first occurrence at once, later ones as a
 * summary carrying how many were suppressed. `recovered()` logs once when the failures stop.
 */
export class LogThrottle {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;
  private failing = false;

  constructor(
    private readonly logger: Logger,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    this.failing = true;
    const t = this.now();
    if (t - this.lastAt < this.everyMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, ...(this.suppressed > 0 ? { suppressed: this.suppressed } : {}) }, message);
    this.lastAt = t;
    this.suppressed = 0;
  }

  recovered(fields: Record<string, unknown>, message: string): void {
    if (!this.failing) return;
    this.logger.info({ ...fields, ...(this.suppressed > 0 ? { suppressed: this.suppressed } : {}) }, message);
    this.failing = false;
    this.suppressed = 0;
    this.lastAt = Number.NEGATIVE_INFINITY;
  }
}
