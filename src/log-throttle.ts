import type { Logger } from './log.js';

/**
 * Logs a repeated event at most `burst` times per `everyMs` (default once): the first ones at once,
 * later ones as a summary carrying how many were suppressed. `recovered()` logs once when failures stop.
 */
export class LogThrottle {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private suppressed = 0;
  private failing = false;

  constructor(
    private readonly logger: Logger,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
    private readonly burst = 1,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    this.failing = true;
    this.emit('warn', fields, message);
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.emit('info', fields, message);
  }

  recovered(fields: Record<string, unknown>, message: string): void {
    if (!this.failing) return;
    this.logger.info({ ...fields, ...(this.suppressed > 0 ? { suppressed: this.suppressed } : {}) }, message);
    this.failing = false;
    this.suppressed = 0;
    this.windowStart = Number.NEGATIVE_INFINITY;
    this.inWindow = 0;
  }

  private emit(level: 'warn' | 'info', fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.everyMs) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.burst) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    this.logger[level]({ ...fields, ...(this.suppressed > 0 ? { suppressed: this.suppressed } : {}) }, message);
    this.suppressed = 0;
  }
}
