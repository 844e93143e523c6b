import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { ChangeEvent, Operations } from '../operations.js';
import { changeCluster, changeSubject, changeToWire, clusterToWire, endpointToWire } from './convert.js';
import type { WatchEventWire } from './proto.js';

export interface WatchStreamOptions {
  ops: Operations;
  logger: Logger;
  now: () => number;
  /** Only events about this cluster. */
  cluster?: string | undefined;
  /** Live events a client may be behind (beyond the initial state) before it is closed with RESOURCE_EXHAUSTED. */
  backlog: number;
  /** Called once when the stream is over, whatever ended it. */
  onClose: (w: WatchStream) => void;
}

/**
 * One Watch call: the current state, a `synced` marker, then every change. Writes follow the
 * call's backpressure: while the client does not read, events wait in a queue where a newer event
 * about the same subject replaces the unsent older one; past `backlog` distinct subjects the stream
 * is closed with RESOURCE_EXHAUSTED (the client re-Watches to resync). Memory per stream is bounded
 * by the queue limit plus grpc-js' own write buffer (its highWaterMark, 16 messages).
 */
export class WatchStream {
  private readonly queue = new Map<string, WatchEventWire>();
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
    const at_ms = this.opts.now();
    // Snapshot and subscribe in the same tick: no change can fall between them.
    const clusters = ops.clusters().filter((c) => cluster === undefined || c.name === cluster);
    const endpoints = ops.endpoints({ cluster });
    for (const c of clusters) this.queue.set(`cluster:${c.name}`, { at_ms, event: 'cluster', cluster: clusterToWire(c) });
    for (const e of endpoints) this.queue.set(`endpoint:${e.key}`, { at_ms, event: 'endpoint', endpoint: endpointToWire(e) });
    this.queue.set('synced', { at_ms, event: 'synced', synced: { clusters: clusters.length, endpoints: endpoints.length } });
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
    const older = this.queue.get(key);
    if (older) {
      // Coalesce in place: the client never saw `older`, so what it last saw is what `older` said came before.
      if (ev.event === 'endpoint') ev.previous = older.event === 'endpoint' ? older.previous : undefined;
      this.queue.set(key, ev);
    } else {
      if (this.queue.size >= this.limit) {
        this.opts.logger.warn({ peer: this.call.getPeer(), backlog: this.opts.backlog }, 'closing a Watch stream that does not read its events');
        this.fail(grpc.status.RESOURCE_EXHAUSTED, `watch: more than ${this.opts.backlog} events behind; call Watch again to resync`);
        return;
      }
      this.queue.set(key, ev);
    }
    this.pump();
  }

  private pump(): void {
    while (!this.closed && !this.blocked) {
      const next = this.queue.entries().next();
      if (next.done) return;
      const [key, ev] = next.value;
      this.queue.delete(key);
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
    this.opts.onClose(this);
  }
}
