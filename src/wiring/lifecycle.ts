import { StartError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * One part of the running system, as the start/stop list sees it. A stop must be idempotent and safe on
 * a component that never started (it was constructed, not started): stop() runs over every component.
 */
export interface Component {
  name: string;
  start?(): unknown;
  stop?(): unknown;
}

/**
 * Starts components in list order and stops them in reverse. A start that fails stops everything
 * (reverse order, so what already started is stopped) and rejects with a StartError naming the component.
 */
export class Lifecycle {
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly components: readonly Component[],
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const c of this.components) {
      try {
        await c.start?.();
      } catch (err) {
        this.logger.error({ err, part: c.name }, 'start failed; stopping what started');
        await this.stop();
        throw new StartError(c.name, err);
      }
    }
  }

  /** Reverse order; a failing stop is logged and the others still run. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    for (const c of [...this.components].reverse()) {
      try {
        await c.stop?.();
      } catch (err) {
        this.logger.error({ err, part: c.name }, 'stop failed');
      }
    }
  }
}
