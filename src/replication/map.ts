/**
 * ReplicatedMap<T>: JSON values under one etcd prefix. Every replica can load() and watch() it; writes
 * are either owner-guarded compare-and-swap transactions (put / putMany with `ifOwner`: refused when
 * the writer no longer holds the key's ownership claim, so there are no split-brain writes) or plain
 * durable puts (durablePut: resolves once etcd has committed, for registrations).
 */
import type { Etcd3, ICompare, IRequestOp, ITxnResponse } from 'etcd3';
import { etcdCall } from './client.js';
import { ReplicatedValueError } from './errors.js';
import { PrefixWatch, readPrefix, type RawEntry, type RawSnapshot } from './prefix-watch.js';
import type { EtcdStatus } from './status.js';

/** Proof of ownership to check inside the write transaction: the claim key must carry this lease. */
export interface OwnerGuard {
  claimKey: string;
  leaseId: string;
}

export interface ReplicatedMapOptions<T> {
  /** Full etcd prefix, e.g. `/healthmesh/assignment/`; map keys are relative to it. */
  prefix: string;
  /** Validates a decoded JSON value (e.g. a zod schema's `parse`); throwing rejects the value. */
  parse: (value: unknown) => T;
  status: EtcdStatus;
  /** Entries per transaction in putMany, default 64 (etcd allows 128 operations per txn by default). */
  maxBatch?: number;
  /** Invalid values read from etcd and watch trouble are reported here (they never throw). */
  onError?: (err: Error) => void;
}

export interface MapSnapshot<T> {
  values: Map<string, T>;
  /** Mod revision of every key present, valid or not. */
  modRevisions: Map<string, bigint>;
  /** etcd's revision when the snapshot was read: watch from it. */
  revision: bigint;
}

export type PutOutcome = { ok: true; revision: bigint } | { ok: false; reason: 'not-owner' };

export interface BatchEntry<T> {
  key: string;
  value: T;
  ifOwner?: OwnerGuard;
}

export interface BatchOutcome {
  written: string[];
  /** Keys whose owner guard failed: nothing was written for them. */
  refused: string[];
  /** Revision of the last committed transaction, null when nothing was written. */
  revision: bigint | null;
}

export interface MapWatchHandlers<T> {
  onPut(key: string, value: T, modRevision: bigint): void;
  onDelete(key: string, revision: bigint): void;
  onConnection?(connected: boolean): void;
}

export interface MapWatch {
  /** Every change up to this revision has been delivered. */
  revision(): bigint;
  connected(): boolean;
  cancel(): Promise<void>;
}

const MAX_TXN_OPS = 128;

export class ReplicatedMap<T> {
  private readonly maxBatch: number;

  constructor(
    private readonly client: Etcd3,
    private readonly opts: ReplicatedMapOptions<T>,
  ) {
    if (!opts.prefix.endsWith('/')) throw new RangeError(`ReplicatedMap prefix must end with "/": ${opts.prefix}`);
    this.maxBatch = Math.max(1, Math.min(opts.maxBatch ?? 64, MAX_TXN_OPS));
  }

  get prefix(): string {
    return this.opts.prefix;
  }

  async load(): Promise<MapSnapshot<T>> {
    const raw = await readPrefix(this.client, this.opts.status, this.opts.prefix);
    const values = new Map<string, T>();
    const modRevisions = new Map<string, bigint>();
    for (const e of raw.entries.values()) {
      modRevisions.set(e.key, e.modRevision);
      const v = this.decode(e);
      if (v !== undefined) values.set(e.key, v.value);
    }
    return { values, modRevisions, revision: raw.revision };
  }

  /** Delivers every change after `from.revision`, in order, resuming after disconnects. */
  async watch(from: MapSnapshot<T>, handlers: MapWatchHandlers<T>): Promise<MapWatch> {
    const raw: RawSnapshot = { entries: new Map(), revision: from.revision };
    for (const [key, modRevision] of from.modRevisions) raw.entries.set(key, { key, value: Buffer.alloc(0), modRevision });
    const w = new PrefixWatch(this.client, this.opts.status, this.opts.prefix, raw, {
      onPut: (e) => {
        const v = this.decode(e);
        if (v !== undefined) handlers.onPut(e.key, v.value, e.modRevision);
      },
      onDelete: (key, rev) => handlers.onDelete(key, rev),
      onError: (err) => this.report(err),
      ...(handlers.onConnection ? { onConnection: handlers.onConnection } : {}),
    });
    await w.start();
    return { revision: () => w.revision(), connected: () => w.isConnected(), cancel: () => w.cancel() };
  }

  /** One compare-and-swap write; with `ifOwner`, refused (not thrown) when the guard no longer holds. */
  async put(key: string, value: T, opts: { ifOwner?: OwnerGuard } = {}): Promise<PutOutcome> {
    const out = await this.putMany([{ key, value, ...(opts.ifOwner ? { ifOwner: opts.ifOwner } : {}) }]);
    if (out.refused.length > 0 || out.revision === null) return { ok: false, reason: 'not-owner' };
    return { ok: true, revision: out.revision };
  }

  /**
   * Writes many entries in as few transactions as possible (maxBatch per txn). In each txn every
   * owner guard is compared; if one fails, the failed keys are found from the same txn's else-branch
   * reads and the rest is written again without them.
   */
  async putMany(entries: readonly BatchEntry<T>[]): Promise<BatchOutcome> {
    const latest = new Map<string, BatchEntry<T>>();
    for (const e of entries) latest.set(e.key, e); // last write per key wins
    const all = [...latest.values()];
    const out: BatchOutcome = { written: [], refused: [], revision: null };
    for (let i = 0; i < all.length; i += this.maxBatch) {
      await this.writeChunk(all.slice(i, i + this.maxBatch), out);
    }
    return out;
  }

  /** Unconditional put that resolves once etcd has committed it (its revision), or rejects with a typed error. */
  async durablePut(key: string, value: T): Promise<{ revision: bigint }> {
    const res = await etcdCall(this.opts.status, `put ${this.opts.prefix}${key}`, () =>
      this.client
        .put(this.opts.prefix + key)
        .value(this.encode(key, value))
        .exec(),
    );
    return { revision: BigInt(res.header.revision) };
  }

  /** Deletes a key; with `ifOwner`, only while the guard holds. Returns false when refused. */
  async delete(key: string, opts: { ifOwner?: OwnerGuard } = {}): Promise<boolean> {
    const full = this.opts.prefix + key;
    const g = opts.ifOwner;
    if (!g) {
      await etcdCall(this.opts.status, `delete ${full}`, () => this.client.delete().key(full).exec());
      return true;
    }
    const res = await etcdCall(this.opts.status, `delete ${full}`, () =>
      this.client.if(g.claimKey, 'Lease', '==', g.leaseId).then(this.client.delete().key(full)).commit(),
    );
    return res.succeeded;
  }

  private async writeChunk(chunk: BatchEntry<T>[], out: BatchOutcome): Promise<void> {
    let pending = chunk;
    // Each retry drops at least one refused key, so this ends; 3 rounds cover ownership moving mid-batch.
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      const guards = uniqueGuards(pending);
      const res = await this.txn(pending, guards);
      if (res.succeeded) {
        out.written.push(...pending.map((e) => e.key));
        out.revision = BigInt(res.header.revision);
        return;
      }
      const failedClaims = failedGuards(guards, res);
      const refused = pending.filter((e) => e.ifOwner && failedClaims.has(e.ifOwner.claimKey));
      out.refused.push(...refused.map((e) => e.key));
      pending = pending.filter((e) => !(e.ifOwner && failedClaims.has(e.ifOwner.claimKey)));
      if (refused.length === 0) break; // raced: a guard failed and came back; leave the rest to the caller
    }
    out.refused.push(...pending.map((e) => e.key));
  }

  private async txn(entries: BatchEntry<T>[], guards: OwnerGuard[]): Promise<ITxnResponse> {
    const compare: ICompare[] = guards.map((g) => ({
      key: Buffer.from(g.claimKey),
      target: 'Lease',
      result: 'Equal',
      lease: g.leaseId,
    }));
    const success: IRequestOp[] = entries.map((e) => ({
      request_put: { key: Buffer.from(this.opts.prefix + e.key), value: Buffer.from(this.encode(e.key, e.value)) },
    }));
    const failure: IRequestOp[] = guards.map((g) => ({ request_range: { key: Buffer.from(g.claimKey) } }));
    return etcdCall(this.opts.status, `txn of ${entries.length} puts under ${this.opts.prefix}`, () => this.client.kv.txn({ compare, success, failure }));
  }

  private encode(key: string, value: T): string {
    const s = JSON.stringify(value);
    if (s === undefined) throw new ReplicatedValueError(this.opts.prefix + key, 'value is not JSON-serialisable');
    return s;
  }

  private decode(e: RawEntry): { value: T } | undefined {
    try {
      return { value: this.opts.parse(JSON.parse(e.value.toString('utf8'))) };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.report(new ReplicatedValueError(this.opts.prefix + e.key, `invalid value at revision ${e.modRevision}: ${why}`));
      return undefined;
    }
  }

  private report(err: Error): void {
    try {
      this.opts.onError?.(err);
    } catch {
      // reporting must not break the caller
    }
  }
}

function uniqueGuards<T>(entries: BatchEntry<T>[]): OwnerGuard[] {
  const byKey = new Map<string, OwnerGuard>();
  for (const e of entries) if (e.ifOwner) byKey.set(`${e.ifOwner.claimKey}\0${e.ifOwner.leaseId}`, e.ifOwner);
  return [...byKey.values()];
}

/** Claim keys whose guard failed, read from the else-branch range responses (same order as guards). */
function failedGuards(guards: OwnerGuard[], res: ITxnResponse): Set<string> {
  const failed = new Set<string>();
  guards.forEach((g, i) => {
    const kv = res.responses[i]?.response_range?.kvs[0];
    if (!kv || String(kv.lease) !== g.leaseId) failed.add(g.claimKey);
  });
  return failed;
}
