/**
 * ReplicaRegistry: this replica's membership key `<prefix>/replicas/<id>` (its advertised address),
 * bound to a lease kept alive in the background, plus the live set of all replicas as etcd has it,
 * followed by a watch. A dead replica's key expires with its lease (one TTL); a replica whose lease
 * is lost (etcd away longer than the TTL) registers again with a new lease as soon as etcd answers.
 * While etcd is unreachable the live set stays as last seen (no flip-flop).
 */
import type { Etcd3, Lease } from 'etcd3';
import { z } from 'zod';
import { etcdCall } from './client.js';
import { replicaKey, replicasPrefix } from './keys.js';
import { ReplicatedMap, type MapWatch } from './map.js';
import type { EtcdStatus } from './status.js';

/**
 * Unknown fields are ignored (not refused), so a newer release may add some during a rolling upgrade
 * without the older replicas dropping it from their live set.
 */
export const replicaInfoSchema = z.object({
  id: z.string().min(1),
  address: z.string().min(1),
  registeredAt: z.number(),
  /** Digest per shared config section (src/config/digest.ts); absent from releases before it. */
  config: z.record(z.string(), z.string()).optional(),
});
export type ReplicaInfo = z.infer<typeof replicaInfoSchema>;

export interface ReplicaRegistryOptions {
  /** The configured key prefix, e.g. `/healthmesh`. */
  prefix: string;
  replicaId: string;
  /** host:port where Envoys and other replicas reach this replica. */
  address: string;
  /** Default 5 s. */
  leaseTtlSeconds?: number;
  status: EtcdStatus;
  onError?: (err: Error) => void;
  now?: () => number;
  /** Published with the membership key so replicas can compare configurations. */
  configDigest?: () => Record<string, string>;
}

const REJOIN_MIN_MS = 200;
const REJOIN_MAX_MS = 2000;

export class ReplicaRegistry {
  private lease: Lease | undefined;
  private currentLeaseId: string | undefined;
  private readonly members = new Map<string, ReplicaInfo>();
  private readonly listeners = new Set<(live: ReadonlyMap<string, ReplicaInfo>) => void>();
  private readonly map: ReplicatedMap<ReplicaInfo>;
  private watch: MapWatch | undefined;
  private rejoinTimer: NodeJS.Timeout | undefined;
  private rejoinMs = REJOIN_MIN_MS;
  private stopped = false;
  private readonly ttl: number;
  /** A lease given up as lost (etcd unreachable past the TTL) that etcd may still keep alive after it returns. */
  private lostLeaseId: string | undefined;

  constructor(
    private readonly client: Etcd3,
    private readonly opts: ReplicaRegistryOptions,
  ) {
    this.ttl = opts.leaseTtlSeconds ?? 5;
    this.map = new ReplicatedMap(client, {
      prefix: replicasPrefix(opts.prefix),
      parse: (v) => replicaInfoSchema.parse(v),
      status: opts.status,
      onError: (e) => this.report(e),
    });
  }

  /** Registers this replica and starts following the live set; rejects with a typed error if etcd is unreachable. */
  async start(): Promise<void> {
    await this.join();
    const snap = await this.map.load();
    for (const [id, info] of snap.values) this.members.set(id, info);
    this.emit();
    this.watch = await this.map.watch(snap, {
      onPut: (id, info) => {
        const before = this.members.get(id);
        this.members.set(id, info);
        if (!before || before.address !== info.address || before.registeredAt !== info.registeredAt || !sameDigest(before.config, info.config)) this.emit();
      },
      onDelete: (id) => {
        if (this.members.delete(id)) this.emit();
      },
    });
  }

  /** The live replicas by id, as last seen in etcd. */
  live(): ReadonlyMap<string, ReplicaInfo> {
    return this.members;
  }

  liveIds(): string[] {
    return [...this.members.keys()].sort();
  }

  /** This replica's membership lease, undefined while (re)registering. Ownership claims are bound to it. */
  leaseId(): string | undefined {
    return this.currentLeaseId;
  }

  /** Called with the live set after every change; returns an unsubscribe function. */
  onChange(listener: (live: ReadonlyMap<string, ReplicaInfo>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stops. `revoke: true` (default) deletes the membership key at once (clean shutdown); `revoke: false`
   * just stops the keepalives, like a crashed process: the key expires after the lease TTL.
   */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer);
    await this.watch?.cancel();
    const lease = this.lease;
    this.lease = undefined;
    this.currentLeaseId = undefined;
    if (!lease) return;
    if (opts.revoke ?? true) await lease.revoke().catch((e: unknown) => this.report(e));
    else lease.release();
  }

  /** Publishes this replica's info again under its current lease (e.g. its config digest after a reload). */
  async refreshInfo(): Promise<void> {
    const lease = this.lease;
    if (!lease || this.stopped) return; // a rejoin writes the current info anyway
    await this.putInfo(lease, this.registeredAt);
  }

  private registeredAt = 0;

  /** Puts `key` bound to this replica's membership lease (it goes when the replica does); false while (re)registering. */
  async putBound(key: string, value: string): Promise<boolean> {
    const lease = this.lease;
    if (!lease || this.stopped) return false;
    await etcdCall(this.opts.status, `put ${key}`, () => lease.put(key).value(value).exec());
    return true;
  }

  private async putInfo(lease: Lease, registeredAt: number): Promise<void> {
    const digest = this.opts.configDigest?.();
    const info: ReplicaInfo = { id: this.opts.replicaId, address: this.opts.address, registeredAt, ...(digest ? { config: digest } : {}) };
    await etcdCall(this.opts.status, `register replica ${this.opts.replicaId}`, () =>
      lease.put(replicaKey(this.opts.prefix, this.opts.replicaId)).value(JSON.stringify(info)).exec(),
    );
  }

  private async join(): Promise<void> {
    const lease = this.client.lease(this.ttl, { autoKeepAlive: true });
    try {
      const id = await etcdCall(this.opts.status, 'grant membership lease', () => lease.grant());
      this.registeredAt = (this.opts.now ?? Date.now)();
      await this.putInfo(lease, this.registeredAt);
      if (this.stopped) {
        await lease.revoke().catch(() => undefined);
        return;
      }
      lease.on('lost', (err) => this.onLost(lease, err));
      this.lease = lease;
      this.currentLeaseId = id;
      this.rejoinMs = REJOIN_MIN_MS;
      // etcd refreshes every lease when it comes back, so a lease we gave up may live one more TTL and keep
      // its ownership claims from us: revoke it (best effort; it expires by itself otherwise).
      const old = this.lostLeaseId;
      this.lostLeaseId = undefined;
      if (old) void this.client.leaseClient.leaseRevoke({ ID: old }).catch(() => undefined);
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  private onLost(lease: Lease, err: Error): void {
    if (lease !== this.lease || this.stopped) return;
    this.lostLeaseId ??= this.currentLeaseId;
    this.lease = undefined;
    this.currentLeaseId = undefined;
    this.opts.status.failed(err);
    this.report(err);
    this.scheduleRejoin();
  }

  private scheduleRejoin(): void {
    if (this.stopped || this.rejoinTimer) return;
    const delay = this.rejoinMs;
    this.rejoinMs = Math.min(REJOIN_MAX_MS, this.rejoinMs * 2);
    this.rejoinTimer = setTimeout(() => {
      this.rejoinTimer = undefined;
      this.join().catch((e: unknown) => {
        this.report(e);
        this.scheduleRejoin();
      });
    }, delay);
  }

  private emit(): void {
    for (const l of this.listeners) {
      try {
        l(this.members);
      } catch (err) {
        this.report(err);
      }
    }
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // reporting must not throw into the etcd client's callbacks
    }
  }
}

function sameDigest(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (!a || !b) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
