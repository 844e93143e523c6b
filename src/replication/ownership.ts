/**
 * Ownership claims: a replica may write a key's decisions only while it holds `<prefix>/owners/<key>`,
 * a claim created only when absent and bound to the replica's membership lease. The claim disappears
 * with the lease (replica dead) or when the holder releases it (ownership moved by rendezvous hashing).
 * Writers pass `guard(key)` to ReplicatedMap.put/putMany, which compares the claim's lease inside the
 * write transaction: a replica whose claim is gone cannot write, whatever its view of the live set.
 * A claim's value is the holder's replica id as a JSON string, so the claims can be followed with a
 * ReplicatedMap<string> on ownerClaimsPrefix (e.g. to reconcile as soon as a waited-for claim is released).
 */
import type { Etcd3, ICompare, IRequestOp, ITxnResponse } from 'etcd3';
import { etcdCall } from './client.js';
import { ownerOf } from './hash.js';
import { ownerClaimKey } from './keys.js';
import type { OwnerGuard } from './map.js';
import type { EtcdStatus } from './status.js';

export interface OwnershipClaimsOptions {
  /** The configured key prefix (e.g. `/healthmesh`). */
  prefix: string;
  replicaId: string;
  /** The replica's current membership lease (ReplicaRegistry.leaseId), undefined while not registered. */
  leaseId: () => string | undefined;
  status: EtcdStatus;
  /** Claims per transaction, default 64. */
  maxBatch?: number;
}

export interface ReconcileResult {
  /** Keys this replica owns and holds the claim of: it may write them. */
  held: string[];
  /** Keys this replica owns by hashing whose claim another replica still holds (until it releases or its lease expires). */
  waiting: string[];
  /** Claims this replica gave up because another live replica owns the key now. */
  released: string[];
}

export class OwnershipClaims {
  private heldWith: { leaseId: string; keys: Set<string> } = { leaseId: '', keys: new Set() };
  private readonly maxBatch: number;

  constructor(
    private readonly client: Etcd3,
    private readonly opts: OwnershipClaimsOptions,
  ) {
    this.maxBatch = Math.max(1, Math.min(opts.maxBatch ?? 64, 128));
  }

  /** The guard to pass to ReplicatedMap writes; undefined while this replica has no lease. */
  guard(key: string): OwnerGuard | undefined {
    const leaseId = this.opts.leaseId();
    return leaseId ? { claimKey: ownerClaimKey(this.opts.prefix, key), leaseId } : undefined;
  }

  /** Keys this replica believes it holds (as of its last claim/release/reconcile). */
  held(): string[] {
    return this.opts.leaseId() === this.heldWith.leaseId ? [...this.heldWith.keys] : [];
  }

  /** The replica id holding `key`'s claim, if any. */
  async holder(key: string): Promise<string | undefined> {
    const k = ownerClaimKey(this.opts.prefix, key);
    const v = await etcdCall(this.opts.status, `get ${k}`, () => this.client.get(k).string());
    return v === null ? undefined : parseHolder(v);
  }

  /** Claims each key that is unclaimed (or already ours); returns the keys now held. */
  async claim(keys: readonly string[]): Promise<string[]> {
    const leaseId = this.requireLease();
    const got: string[] = [];
    for (let i = 0; i < keys.length; i += this.maxBatch) {
      const chunk = keys.slice(i, i + this.maxBatch);
      const res = await this.nested(
        `claim ${chunk.length} keys`,
        chunk.map((key) => {
          const claimKey = Buffer.from(ownerClaimKey(this.opts.prefix, key));
          return {
            compare: [{ key: claimKey, target: 'Create', result: 'Equal', create_revision: 0 }],
            success: [{ request_put: { key: claimKey, value: Buffer.from(JSON.stringify(this.opts.replicaId)), lease: leaseId } }],
            failure: [{ request_range: { key: claimKey } }],
          };
        }),
      );
      chunk.forEach((key, j) => {
        const r = res.responses[j]?.response_txn;
        const existing = r?.responses[0]?.response_range?.kvs[0];
        if (r?.succeeded || (existing && String(existing.lease) === leaseId)) got.push(key);
      });
    }
    this.remember(leaseId, got, []);
    return got;
  }

  /** Releases the claims of `keys` that this replica holds; returns the keys released. */
  async release(keys: readonly string[]): Promise<string[]> {
    const leaseId = this.opts.leaseId();
    if (!leaseId) return [];
    const gone: string[] = [];
    for (let i = 0; i < keys.length; i += this.maxBatch) {
      const chunk = keys.slice(i, i + this.maxBatch);
      const res = await this.nested(
        `release ${chunk.length} keys`,
        chunk.map((key) => {
          const claimKey = Buffer.from(ownerClaimKey(this.opts.prefix, key));
          return {
            compare: [{ key: claimKey, target: 'Lease', result: 'Equal', lease: leaseId }],
            success: [{ request_delete_range: { key: claimKey } }],
            failure: [],
          };
        }),
      );
      chunk.forEach((key, j) => {
        if (res.responses[j]?.response_txn?.succeeded) gone.push(key);
      });
    }
    this.remember(leaseId, [], keys);
    return gone;
  }

  /**
   * Brings the claims in line with rendezvous hashing over `liveReplicas`: releases held keys another
   * replica owns now, claims owned keys. Call it when the live set or the key set changes, and again
   * while `waiting` is not empty (a previous owner releases on its next reconcile or dies with its lease).
   */
  async reconcile(keys: Iterable<string>, liveReplicas: Iterable<string>): Promise<ReconcileResult> {
    const live = [...liveReplicas];
    const mine: string[] = [];
    const held = new Set(this.held());
    const toRelease: string[] = [];
    for (const key of keys) {
      if (ownerOf(key, live) === this.opts.replicaId) mine.push(key);
      else if (held.has(key)) toRelease.push(key);
    }
    const released = toRelease.length > 0 ? await this.release(toRelease) : [];
    const got = new Set(await this.claim(mine));
    return { held: mine.filter((k) => got.has(k)), waiting: mine.filter((k) => !got.has(k)), released };
  }

  private requireLease(): string {
    const leaseId = this.opts.leaseId();
    if (!leaseId) throw new RangeError(`replica ${this.opts.replicaId} is not registered (no lease): it cannot claim keys`);
    return leaseId;
  }

  private remember(leaseId: string, added: readonly string[], removed: readonly string[]): void {
    if (this.heldWith.leaseId !== leaseId) this.heldWith = { leaseId, keys: new Set() };
    for (const k of added) this.heldWith.keys.add(k);
    for (const k of removed) this.heldWith.keys.delete(k);
  }

  /** One transaction made of independent nested transactions (etcd 3.3+). */
  private nested(operation: string, txns: { compare: ICompare[]; success: IRequestOp[]; failure: IRequestOp[] }[]): Promise<ITxnResponse> {
    return etcdCall(this.opts.status, operation, () => this.client.kv.txn({ compare: [], success: txns.map((t) => ({ request_txn: t })), failure: [] }));
  }
}

function parseHolder(raw: string): string | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
