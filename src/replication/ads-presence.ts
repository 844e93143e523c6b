/**
 * Which proxies hold an ADS stream on which replica. Envoy opens its ADS and LRS streams separately, so
 * behind a load balancer or after a failover they often land on different replicas; LRS accepts reports
 * only from a node id with an open ADS stream, and that check must see every replica's streams. Each
 * replica publishes its node ids under `<prefix>/ads/<replicaId>`, bound to its membership lease (gone
 * with the replica), rewritten at most every `debounceMs` after a stream opens or closes; every replica
 * watches the prefix.
 */
import type { Etcd3 } from 'etcd3';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { adsPresencePrefix } from './keys.js';
import { ReplicatedMap, type MapWatch } from './map.js';
import type { ReplicaRegistry } from './registry.js';
import type { EtcdStatus } from './status.js';

const presenceSchema = z.object({ nodes: z.array(z.string()) });
/** Node ids published per replica at most (etcd's default request limit is 1.5 MiB). */
const MAX_BYTES = 1024 * 1024;

export interface AdsPresenceOptions {
  prefix: string;
  replicaId: string;
  registry: ReplicaRegistry;
  status: EtcdStatus;
  logger: Logger;
  /** This replica's node ids with an open ADS stream now. */
  local: () => Set<string>;
  debounceMs?: number;
}

export class AdsPresence {
  private readonly map: ReplicatedMap<{ nodes: string[] }>;
  private readonly remote = new Map<string, Set<string>>();
  private watch: MapWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private again = false;
  private stopped = false;
  private truncatedWarned = false;

  constructor(
    client: Etcd3,
    private readonly opts: AdsPresenceOptions,
  ) {
    this.map = new ReplicatedMap(client, {
      prefix: adsPresencePrefix(opts.prefix),
      parse: (v) => presenceSchema.parse(v),
      status: opts.status,
      onError: (err) => opts.logger.warn({ err: err.message }, 'ads presence'),
    });
  }

  async start(): Promise<void> {
    const snap = await this.map.load();
    for (const [id, v] of snap.values) if (id !== this.opts.replicaId) this.remote.set(id, new Set(v.nodes));
    this.watch = await this.map.watch(snap, {
      onPut: (id, v) => {
        if (id !== this.opts.replicaId) this.remote.set(id, new Set(v.nodes));
      },
      onDelete: (id) => this.remote.delete(id),
    });
    this.changed();
  }

  /** Whether another live replica holds an ADS stream from `nodeId`. */
  elsewhere(nodeId: string): boolean {
    for (const nodes of this.remote.values()) if (nodes.has(nodeId)) return true;
    return false;
  }

  /** A stream opened or closed here (or this replica re-registered): publish soon. */
  changed(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.publish();
    }, this.opts.debounceMs ?? 100);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.watch?.cancel().catch(() => undefined);
  }

  private async publish(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return;
    }
    this.writing = true;
    try {
      const nodes: string[] = [];
      let bytes = 0;
      for (const id of this.opts.local()) {
        bytes += id.length * 3 + 4;
        if (bytes > MAX_BYTES) {
          if (!this.truncatedWarned)
            this.opts.logger.warn({ published: nodes.length }, 'too many ADS node ids to publish: LRS on other replicas accepts only these');
          this.truncatedWarned = true;
          break;
        }
        nodes.push(id);
      }
      const key = adsPresencePrefix(this.opts.prefix) + this.opts.replicaId;
      if (!(await this.opts.registry.putBound(key, JSON.stringify({ nodes })))) this.retrySoon();
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, "could not publish this replica's ADS streams; retrying");
      this.retrySoon();
    } finally {
      this.writing = false;
      if (this.again) {
        this.again = false;
        this.changed();
      }
    }
  }

  private retrySoon(): void {
    if (this.stopped) return;
    setTimeout(() => this.changed(), 1000).unref?.();
  }
}
