import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { ChangeEvent, Operations } from '../operations.js';
import { changeCluster, changeSubject, changeToWire, syncedToWire } from './convert.js';
import type { WatchEventWire } from './proto.js';

export interface WatchStreamOptions {
  ops: Operations;
  logger: Logger;
  now: () => number;
  /** Only events about this cluster. */
  cluster?: string | undefined;
  /** Live events a client may be behind (beyond the initial state) before it is closed with RESOURCE_EXHAUSTED. */
  backlog: number;
  /** Shared across every Watch stream: caps the bytes queued by all of them together. */
  budget?: WatchBudget;
  /** Called once when the stream is over, whatever ended it. */
  onClose: (w: WatchStream) => void;
}

/** Estimated in-memory size of a queued event (its JSON length; the wire form is smaller). */
const sizeOf = (ev: WatchEventWire): number => JSON.stringify(ev).length;

/**
 * Bytes queued across every Watch stream. When the total goes past `limit`, the stream that is most
 * behind (most bytes queued) is closed with RESOURCE_EXHAUSTED until the total fits again, so one
 * or many clients that never read cannot grow memory without bound.
 */
export class WatchBudget {
  private readonly held = new Map<WatchStream, number>();
  total = 0;

  constructor(readonly limit: number) {}

  charge(w: WatchStream, bytes: number): void {
    this.held.set(w, (this.held.get(w) ?? 0) + bytes);
    this.total += bytes;
  }

  release(w: WatchStream, bytes: number): void {
    const had = this.held.get(w);
    if (had === undefined) return;
    const left = Math.max(0, had - bytes);
    this.total -= had - left;
    if (left === 0) this.held.delete(w);
    else this.held.set(w, left);
  }

  forget(w: WatchStream): void {
    this.total -= this.held.get(w) ?? 0;
    this.held.delete(w);
  }

  /** Closes the most-behind streams while the total is over the limit. */
  enforce(): void {
    while (this.total > this.limit && this.held.size > 0) {
      let worst: WatchStream | undefined;
      let most = -1;
      for (const [w, n] of this.held) if (n > most) [worst, most] = [w, n];
      if (!worst) return;
      this.forget(worst);
      worst.fail(
        grpc.status.RESOURCE_EXHAUSTED,
        `watch: the Watch streams together are more than ${this.limit} bytes behind (status.maxWatchBacklogBytes) and this one is the furthest; call Watch again to resync`,
      );
    }
  }
}

/**
 * One Watch call: the current state, a `synced` marker, then every change. Writes follow the
 * call's backpressure: while the client does not read, events wait in a queue where a newer event
 * about the same subject replaces the unsent older one; past `backlog` distinct subjects the stream
 * is closed with RESOURCE_EXHAUSTED (the client re-Watches to resync). Memory per stream is bounded
 * by the queue limit plus grpc-js' own write buffer (its highWaterMark, 16 messages); memory across
 * all streams by the shared WatchBudget (the most-behind stream is closed when the total is too big).
 */
export class WatchStream {
  private readonly queue = new Map<string, { ev: WatchEventWire; bytes: number }>();
  private limit = 0;
  private blocked = false;
  private closed = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly call: grpc.ServerWritableStream<unknown, WatchEventWire>,
    private readonly opts: WatchStreamOptions,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Events waiting for the client to read (for tests and metrics). */
  get queued(): number {
    return this.queue.size;
  }

  start(): void {
    this.safely(() => this.begin());
  }

  private begin(): void {
    if (this.call.cancelled) return this.close();
    const { ops, cluster } = this.opts;
    const at = this.opts.now();
    // Snapshot and subscribe in the same tick: no change can fall between them.
    const clusters = ops.clusters().filter((c) => cluster === undefined || c.name === cluster);
    const endpoints = ops.endpoints({ cluster });
    for (const c of clusters) this.enqueue(`cluster:${c.name}`, changeToWire({ kind: 'cluster', at, cluster: c }));
    for (const e of endpoints) this.enqueue(`endpoint:${e.key}`, changeToWire({ kind: 'endpoint', at, endpoint: e }));
    this.enqueue('synced', syncedToWire(at, clusters.length, endpoints.length));
    this.limit = this.queue.size + this.opts.backlog;
    this.unsubscribe = ops.watch((e) => this.safely(() => this.onChange(e)));

    this.call.on('drain', () =>
      this.safely(() => {
        this.blocked = false;
        this.pump();
      }),
    );
    this.call.on('cancelled', () => this.close());
    this.call.on('close', () => this.close());
    this.call.on('error', () => this.close());
    this.pump();
    this.opts.budget?.enforce();
  }

  /** Queues (or replaces) the event about `key`, keeping the shared budget's count. */
  private enqueue(key: string, ev: WatchEventWire): void {
    const bytes = this.opts.budget ? sizeOf(ev) : 0;
    const older = this.queue.get(key);
    if (older) this.opts.budget?.release(this, older.bytes);
    this.queue.set(key, { ev, bytes });
    this.opts.budget?.charge(this, bytes);
  }

  /** Ends the stream with `code` (queued writes are still flushed to a reading client). */
  fail(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.close();
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  private onChange(e: ChangeEvent): void {
    if (this.closed) return;
    if (this.opts.cluster !== undefined && changeCluster(e) !== this.opts.cluster) return;
    const ev = changeToWire(e);
    const key = changeSubject(e);
    const older = this.queue.get(key)?.ev;
    if (older) {
      // Coalesce in place: the client never saw `older`, so what it last saw is what `older` said came before.
      if (ev.event === 'endpoint') ev.previous = older.event === 'endpoint' ? older.previous : null;
      this.enqueue(key, ev);
    } else {
      if (this.queue.size >= this.limit) {
        this.opts.logger.warn({ peer: this.call.getPeer(), backlog: this.opts.backlog }, 'closing a Watch stream that does not read its events');
        this.fail(grpc.status.RESOURCE_EXHAUSTED, `watch: more than ${this.opts.backlog} events behind; call Watch again to resync`);
        return;
      }
      this.enqueue(key, ev);
    }
    this.pump();
    this.opts.budget?.enforce();
  }

  private pump(): void {
    while (!this.closed && !this.blocked) {
      const next = this.queue.entries().next();
      if (next.done) return;
      const [key, { ev, bytes }] = next.value;
      this.queue.delete(key);
      this.opts.budget?.release(this, bytes);
      if (!this.call.write(ev)) this.blocked = true;
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ err }, 'Watch stream failed');
      this.fail(grpc.status.INTERNAL, 'internal error');
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue.clear();
    this.opts.budget?.forget(this);
    this.opts.onClose(this);
  }
}
