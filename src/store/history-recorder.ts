import type { Logger } from '../log.js';
import type { HistoryPoint } from '../operations.js';
import type { Store } from './types.js';

export interface HistoryRecorderOptions {
  /** The points to record at `at`: every endpoint, or only `keys`. */
  sample(at: number, keys?: Iterable<string>): HistoryPoint[];
  store: Pick<Store, 'appendHistory'>;
  logger: Logger;
  now: () => number;
  /** Every endpoint is recorded this often (`store.sampleIntervalMs`). */
  intervalMs: number;
  /** Changed endpoints are written together this long after the first change. Default 100 ms. */
  coalesceMs?: number;
}

/**
 * Writes the health history: every endpoint each `intervalMs`, and each endpoint shortly after its
 * decision changes (changes within `coalesceMs` go in one write). A failed write is logged, never thrown.
 */
export class HistoryRecorder {
  private readonly changedKeys = new Set<string>();
  private interval: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: HistoryRecorderOptions) {}

  /** Records every endpoint now, then every `intervalMs`. */
  start(): void {
    if (this.stopped || this.interval) return;
    this.recordAll();
    this.interval = setInterval(() => this.recordAll(), this.opts.intervalMs);
    this.interval.unref();
  }

  /** `key`'s decision changed: record it soon. Ignored once stopped. */
  changed(key: string): void {
    if (this.stopped) return;
    this.changedKeys.add(key);
    this.pending ??= setTimeout(() => this.flush(), this.opts.coalesceMs ?? 100);
  }

  /** Records every endpoint now. */
  recordAll(): void {
    this.write(this.opts.sample(this.opts.now()));
  }

  /** Stops the timers; changes not yet written are dropped. Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    if (this.pending) clearTimeout(this.pending);
    this.interval = this.pending = undefined;
    this.changedKeys.clear();
  }

  private flush(): void {
    this.pending = undefined;
    const keys = [...this.changedKeys];
    this.changedKeys.clear();
    this.write(this.opts.sample(this.opts.now(), keys));
  }

  private write(points: HistoryPoint[]): void {
    if (points.length === 0) return;
    try {
      this.opts.store.appendHistory(points);
    } catch (err) {
      this.opts.logger.error({ err }, 'could not record health history');
    }
  }
}
