import type { ProbeOutcome } from '../core/model.js';

export type ProbeListener = (id: string, outcome: ProbeOutcome) => void;

/**
 * Where completed probes go, scheduled or on demand: each listener in the order it subscribed (the
 * engine first, then metrics, then observers such as tests).
 */
export class ProbeFeed {
  private readonly listeners = new Set<ProbeListener>();

  readonly emit: ProbeListener = (id, outcome) => {
    for (const l of this.listeners) l(id, outcome);
  };

  on(listener: ProbeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
