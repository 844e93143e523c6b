import type { Snapshot } from './snapshot.js';

export type SnapshotListener = (snapshot: Snapshot, previous: Snapshot | undefined) => void;

/** How long one slice of a fan-out writes before the event loop gets a turn (and sends what was written). */
const SLICE_MS = 1;

/**
 * Holds the current snapshot and tells subscribers when a new one is published: observers at once, with the
 * previous snapshot; ADS streams through one FIFO work queue served in slices of about 1 ms (`sliceMs`), so that
 * the first streams' responses leave the process while the rest are written (Node sends what a stream wrote only
 * once the event loop turns) and a client starts reading before the last stream was served.
 *
 * A publish queues every stream not already queued (a queued stream sends whatever is newest when its turn
 * comes). Requests that arrive while the queue is not empty (`inTurn`: ACKs, mostly) are queued behind the
 * streams queued before them, so ACK handling does not delay a push, and they never wait for a later publish:
 * everything runs in arrival order, nothing starves under a stream of publishes.
 */
export class SnapshotCache {
  private snapshot: Snapshot | undefined;
  private readonly observers = new Set<SnapshotListener>();
  private readonly streams = new Set<() => void>();
  /** Work in order: stream pumps (each at most once: `queued`) and held requests. */
  private queue: Array<() => void> = [];
  private head = 0;
  private readonly queued = new Set<() => void>();
  private running = false;
  private scheduled = false;

  /** `sliceMs`: Infinity serves every stream at once (benchmarks of the code alone). */
  constructor(private readonly sliceMs = SLICE_MS) {}

  current(): Snapshot | undefined {
    return this.snapshot;
  }

  publish(next: Snapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    for (const observer of this.observers) observer(next, previous);
    for (const pump of this.streams) {
      if (this.queued.has(pump)) continue;
      this.queued.add(pump);
      this.queue.push(pump);
    }
    if (!this.running && !this.scheduled) this.run();
  }

  /** Called with every snapshot and the one before it, as it is published (metrics, tests, benchmarks). */
  subscribe(listener: SnapshotListener): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  /** An ADS stream: `pump` is called after each publish (perhaps a slice later; once for several publishes). */
  subscribeStream(pump: () => void): () => void {
    this.streams.add(pump);
    return () => this.streams.delete(pump);
  }

  /** Runs `fn` now, or after the work queued before it (streams still to be served, requests held earlier). */
  inTurn(fn: () => void): void;
  /** The same for `fn(arg)` (no closure unless it has to wait: a request handler per stream, called per request). */
  inTurn<T>(fn: (arg: T) => void, arg: T): void;
  inTurn<T>(fn: (arg?: T) => void, arg?: T): void {
    if (this.head === this.queue.length) fn(arg);
    else this.queue.push(() => fn(arg));
  }

  /** Serves the queue for one slice, then yields to the event loop if work is left. */
  private run(): void {
    this.scheduled = false;
    this.running = true;
    try {
      const deadline = performance.now() + this.sliceMs;
      let n = 0;
      while (this.head < this.queue.length) {
        const work = this.queue[this.head++]!;
        if (this.queued.delete(work)) {
          if (this.streams.has(work)) work();
        } else work();
        if ((++n & 15) === 0 && this.head < this.queue.length && performance.now() >= deadline) break;
      }
    } finally {
      this.running = false;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else {
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        this.scheduled = true;
        setImmediate(() => this.run());
      }
    }
  }
}
