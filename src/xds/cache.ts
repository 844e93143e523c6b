import type { Snapshot } from './snapshot.js';

export type SnapshotListener = (snapshot: Snapshot, previous: Snapshot | undefined) => void;

/** How long one slice of a fan-out writes before the event loop gets a turn (and sends what was written). */
const SLICE_MS = 1;

/**
 * Holds the current snapshot and tells subscribers when a new one is published: observers at once, with the
 * previous snapshot; streams in slices of about 1 ms (`sliceMs`), so that the first streams' responses leave the process while
 * the rest are written (Node sends what a stream wrote only once the event loop turns), and a client starts reading
 * before the last stream was served. A publish during a fan-out supersedes it: the new one serves every stream.
 * Requests that arrive during a fan-out (`whenIdle`) are handled after it, in the order they came, so ACKs do not
 * delay the push.
 */
export class SnapshotCache {
  private snapshot: Snapshot | undefined;
  private readonly observers = new Set<SnapshotListener>();
  private readonly streams = new Set<() => void>();
  private generation = 0;
  private fanningOut = false;
  private deferred: Array<() => void> = [];
  private draining = false;

  /** `sliceMs`: Infinity serves every stream at once (benchmarks of the code alone). */
  constructor(private readonly sliceMs = SLICE_MS) {}

  current(): Snapshot | undefined {
    return this.snapshot;
  }

  publish(next: Snapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    for (const observer of this.observers) observer(next, previous);
    const streams = [...this.streams];
    const generation = ++this.generation;
    this.fanningOut = true;
    const slice = (from: number): void => {
      if (generation !== this.generation) return; // superseded: the newer publish serves every stream
      const deadline = performance.now() + this.sliceMs;
      let i = from;
      while (i < streams.length) {
        const pump = streams[i++]!;
        if (this.streams.has(pump)) pump();
        if ((i & 15) === 0 && i < streams.length && performance.now() >= deadline) {
          setImmediate(() => slice(i));
          return;
        }
      }
      this.fanningOut = false;
      this.runDeferred();
    };
    slice(0);
  }

  /** Called with every snapshot and the one before it, as it is published (metrics, tests, benchmarks). */
  subscribe(listener: SnapshotListener): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  /** An ADS stream: `pump` is called after each publish (perhaps a slice later, once per publish at most). */
  subscribeStream(pump: () => void): () => void {
    this.streams.add(pump);
    return () => this.streams.delete(pump);
  }

  /** Runs `fn` now, or once the fan-out under way has served every stream. */
  whenIdle(fn: () => void): void {
    if (this.fanningOut) this.deferred.push(fn);
    else fn();
  }

  private runDeferred(): void {
    if (this.draining) return; // a deferred request published, and that publish is done: the loop below goes on
    this.draining = true;
    try {
      this.drain();
    } finally {
      this.draining = false;
    }
  }

  private drain(): void {
    while (!this.fanningOut && this.deferred.length > 0) {
      const batch = this.deferred;
      this.deferred = [];
      for (let i = 0; i < batch.length; i++) {
        if (this.fanningOut) {
          // One of them published again: the rest wait for that fan-out, ahead of anything newer.
          this.deferred = batch.slice(i).concat(this.deferred);
          return;
        }
        batch[i]!();
      }
    }
  }
}
