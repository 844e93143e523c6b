import type { EndpointAssignment } from '../core/assignment.js';
import type { Logger } from '../log.js';
import type { Store } from './types.js';

export interface AssignmentJournalOptions {
  logger: Logger;
  now: () => number;
  /** Changes that publish nothing (memory only: a forgiven trip) are written within this long. */
  lazyFlushMs?: number;
}

/**
 * Write-ahead persistence of the assignment: changes are staged as the engine makes them and
 * written in one transaction right before the snapshot that publishes them reaches any stream
 * (`flush(version)` from the topology's beforePublish), so a restart never restores an older
 * decision than one a proxy has seen. No fsync per publish (see Store.saveAssignments).
 */
export class AssignmentJournal {
  private readonly pending = new Map<string, EndpointAssignment | null>();
  private timer: NodeJS.Timeout | undefined;
  private readonly lazyFlushMs: number;

  constructor(
    private readonly store: Store,
    private readonly opts: AssignmentJournalOptions,
  ) {
    this.lazyFlushMs = opts.lazyFlushMs ?? 1000;
  }

  stage(changed: Iterable<EndpointAssignment>, removed: Iterable<string> = []): void {
    for (const a of changed) this.pending.set(a.key, a);
    for (const key of removed) this.pending.set(key, null);
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.lazyFlushMs);
      this.timer.unref?.();
    }
  }

  /** Write what is staged (and the version about to be published). Never throws: a failed write is logged. */
  flush(versionFloor?: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 && versionFloor === undefined) return;
    const put: EndpointAssignment[] = [];
    const remove: string[] = [];
    for (const [key, a] of this.pending) {
      if (a) put.push(a);
      else remove.push(key);
    }
    this.pending.clear();
    try {
      this.store.saveAssignments({ at: this.opts.now(), put, remove, versionFloor });
    } catch (err) {
      this.opts.logger.error({ err, endpoints: put.length + remove.length }, 'could not persist the assignment; a restart may restore older decisions');
    }
  }

  stop(): void {
    this.flush();
  }
}
