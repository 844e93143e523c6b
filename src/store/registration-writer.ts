import type { RegistrationOp, Store } from './types.js';

/**
 * Group commit for registrations: changes made in the same turn of the event loop (several
 * RegisterEndpoint calls in flight) are written in one durable transaction, and each caller is
 * answered only once that transaction is on disk. One fsync per burst instead of one per call.
 */
export class RegistrationWriter {
  private pending: Array<{ op: RegistrationOp; resolve: () => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;

  constructor(private readonly store: Store) {}

  write(op: RegistrationOp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    try {
      this.store.applyRegistrations(batch.map((b) => b.op));
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    for (const b of batch) b.resolve();
  }
}
