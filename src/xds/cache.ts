import type { Snapshot } from './snapshot.js';

export type SnapshotListener = (snapshot: Snapshot, previous: Snapshot | undefined) => void;

/** Holds the current snapshot and tells subscribers (ADS streams) when a new one is published. */
export class SnapshotCache {
  private snapshot: Snapshot | undefined;
  private readonly listeners = new Set<SnapshotListener>();

  current(): Snapshot | undefined {
    return this.snapshot;
  }

  publish(next: Snapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    for (const listener of this.listeners) listener(next, previous);
  }

  subscribe(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
