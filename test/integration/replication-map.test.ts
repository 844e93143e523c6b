import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ReplicatedValueError } from '../../src/replication/errors.js';
import { ownerOf } from '../../src/replication/hash.js';
import { ownerClaimsPrefix } from '../../src/replication/keys.js';
import { ReplicatedMap } from '../../src/replication/map.js';
import { OwnershipClaims } from '../../src/replication/ownership.js';
import { ReplicaRegistry } from '../../src/replication/registry.js';
import { EtcdStatus } from '../../src/replication/status.js';
import { testPrefix, useEtcdClients } from '../support/etcd.js';
import { waitFor } from '../support/wait.js';

const decisionSchema = z.object({ weight: z.number(), by: z.string() }).strict();
type Decision = z.infer<typeof decisionSchema>;

const { client, cleanups } = useEtcdClients();

interface Replica {
  id: string;
  registry: ReplicaRegistry;
  claims: OwnershipClaims;
  map: ReplicatedMap<Decision>;
  errors: Error[];
}

async function replica(prefix: string, id: string): Promise<Replica> {
  const c = client();
  const status = new EtcdStatus();
  const errors: Error[] = [];
  const registry = new ReplicaRegistry(c, { prefix, replicaId: id, address: `127.0.0.1:1`, leaseTtlSeconds: 2, status });
  cleanups.push(() => registry.stop());
  await registry.start();
  const claims = new OwnershipClaims(c, { prefix, replicaId: id, leaseId: () => registry.leaseId(), status });
  const map = new ReplicatedMap<Decision>(c, {
    prefix: `${prefix}/assignment/`,
    parse: (v) => decisionSchema.parse(v),
    status,
    onError: (e) => errors.push(e),
  });
  return { id, registry, claims, map, errors };
}

describe('ReplicatedMap (real etcd)', () => {
  it('an owner-guarded put is refused for a replica that does not hold the claim, and after the holder dies', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    expect(await a.claims.claim(['ep1'])).toEqual(['ep1']);
    expect(await b.claims.claim(['ep1'])).toEqual([]); // held by a
    expect(await b.claims.holder('ep1')).toBe('a');

    expect(await b.map.put('ep1', { weight: 1, by: 'b' }, { ifOwner: b.claims.guard('ep1')! })).toEqual({ ok: false, reason: 'not-owner' });
    const okA = await a.map.put('ep1', { weight: 100, by: 'a' }, { ifOwner: a.claims.guard('ep1')! });
    expect(okA.ok).toBe(true);
    expect((await b.map.load()).values.get('ep1')).toEqual({ weight: 100, by: 'a' });

    // a "dies" (lease revoked): its claim goes with it; a write with its stale guard is refused, b can take over.
    const staleGuard = a.claims.guard('ep1')!;
    await a.registry.stop({ revoke: true });
    expect(await a.map.put('ep1', { weight: 5, by: 'a' }, { ifOwner: staleGuard })).toEqual({ ok: false, reason: 'not-owner' });
    expect(await b.claims.claim(['ep1'])).toEqual(['ep1']);
    expect((await b.map.put('ep1', { weight: 7, by: 'b' }, { ifOwner: b.claims.guard('ep1')! })).ok).toBe(true);
    expect((await a.map.load()).values.get('ep1')).toEqual({ weight: 7, by: 'b' });
  });

  it('reconcile gives each key to exactly one live replica, and a dead replica’s keys to the survivors', async () => {
    const prefix = testPrefix();
    const reps = [await replica(prefix, 'r1'), await replica(prefix, 'r2'), await replica(prefix, 'r3')];
    await waitFor(() => reps.every((r) => r.registry.liveIds().length === 3), { timeoutMs: 15_000, what: 'all live' });
    const keys = Array.from({ length: 60 }, (_, i) => `cluster-a/10.0.0.${i}:80`);
    for (const r of reps) {
      const res = await r.claims.reconcile(keys, r.registry.liveIds());
      expect(res.waiting).toEqual([]);
      expect(res.held.sort()).toEqual(keys.filter((k) => ownerOf(k, ['r1', 'r2', 'r3']) === r.id).sort());
    }
    const holders = await Promise.all(keys.map((k) => reps[0]!.claims.holder(k)));
    expect(holders.every((h, i) => h === ownerOf(keys[i]!, ['r1', 'r2', 'r3']))).toBe(true);

    const dead = reps[2]!;
    await dead.registry.stop({ revoke: false }); // crash: its claims expire with its lease
    const survivors = reps.slice(0, 2);
    await waitFor(() => survivors.every((r) => r.registry.liveIds().join() === 'r1,r2'), { timeoutMs: 15_000, what: 'r3 gone' });
    for (const r of survivors) {
      const res = await r.claims.reconcile(keys, r.registry.liveIds());
      expect(res.waiting).toEqual([]);
    }
    const after = await Promise.all(keys.map((k) => reps[0]!.claims.holder(k)));
    after.forEach((h, i) => {
      const before = holders[i];
      expect(h).toBe(before === 'r3' ? ownerOf(keys[i]!, ['r1', 'r2']) : before);
    });
  });

  it('reconcile hands keys to a joining replica only after the previous owner releases them', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    expect((await a.claims.reconcile(keys, ['a'])).held).toHaveLength(20);
    const b = await replica(prefix, 'b');
    const bKeys = keys.filter((k) => ownerOf(k, ['a', 'b']) === 'b');
    expect(bKeys.length).toBeGreaterThan(0);
    const first = await b.claims.reconcile(keys, ['a', 'b']);
    expect(first.held).toEqual([]);
    expect(first.waiting.sort()).toEqual(bKeys.sort());
    // b follows the claims to learn when the ones it waits for are released.
    const claimsMap = new ReplicatedMap<string>(client(), { prefix: ownerClaimsPrefix(prefix), parse: (v) => z.string().parse(v), status: new EtcdStatus() });
    const claimsSnap = await claimsMap.load();
    expect([...claimsSnap.values.values()].every((h) => h === 'a')).toBe(true);
    const releasedSeen: string[] = [];
    const cw = await claimsMap.watch(claimsSnap, { onPut: () => undefined, onDelete: (k) => releasedSeen.push(k) });
    cleanups.push(() => cw.cancel());
    const released = await a.claims.reconcile(keys, ['a', 'b']);
    expect(released.released.sort()).toEqual(bKeys.sort());
    await waitFor(() => releasedSeen.length === bKeys.length, { timeoutMs: 15_000, what: 'b sees the releases' });
    expect(releasedSeen.sort()).toEqual(bKeys.sort());
    expect((await b.claims.reconcile(keys, ['a', 'b'])).held.sort()).toEqual(bKeys.sort());
  });

  it('putMany writes in batches and refuses exactly the keys whose claim the writer does not hold', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    const keys = Array.from({ length: 300 }, (_, i) => `ep${i}`);
    const mine = keys.filter((_, i) => i % 3 !== 0);
    const theirs = keys.filter((_, i) => i % 3 === 0);
    await a.claims.claim(mine);
    await b.claims.claim(theirs);
    const out = await a.map.putMany(keys.map((k) => ({ key: k, value: { weight: 1, by: 'a' }, ifOwner: a.claims.guard(k)! })));
    expect(out.written.sort()).toEqual(mine.sort());
    expect(out.refused.sort()).toEqual(theirs.sort());
    const snap = await b.map.load();
    expect([...snap.values.keys()].sort()).toEqual(mine.sort());
    // One revision per committed batch: 300 entries in 64-entry transactions (the refused ones are
    // dropped from each batch and the rest written in one retry).
    const revisions = new Set([...snap.modRevisions.values()].map(String));
    expect(revisions.size).toBe(Math.ceil(300 / 64));
  });

  it('durablePut resolves with the committed revision, readable by another client at once', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    const { revision } = await a.map.durablePut('registration-1', { weight: 3, by: 'api' });
    const snap = await b.map.load();
    expect(snap.values.get('registration-1')).toEqual({ weight: 3, by: 'api' });
    expect(snap.modRevisions.get('registration-1')).toBe(revision);
  });

  it('watch delivers puts and deletes in order; an invalid value is reported and skipped', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    const snap = await b.map.load();
    const events: string[] = [];
    const w = await b.map.watch(snap, {
      onPut: (k, v) => events.push(`put ${k}=${v.weight}`),
      onDelete: (k) => events.push(`del ${k}`),
    });
    cleanups.push(() => w.cancel());
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      await a.map.durablePut(`k${i % 4}`, { weight: i, by: 'a' });
      expected.push(`put k${i % 4}=${i}`);
      if (i % 5 === 4) {
        await a.map.delete(`k${i % 4}`);
        expected.push(`del k${i % 4}`);
      }
    }
    await client().put(`${prefix}/assignment/broken`).value('{not json');
    await a.map.durablePut('last', { weight: -1, by: 'a' });
    expected.push('put last=-1');
    await waitFor(() => events.length >= expected.length, { timeoutMs: 15_000, what: 'all events' });
    expect(events).toEqual(expected);
    expect(a.errors).toEqual([]);
    await waitFor(() => b.errors.length > 0, { timeoutMs: 15_000, what: 'invalid value reported' });
    expect(b.errors[0]).toBeInstanceOf(ReplicatedValueError);
    expect(b.errors[0]!.message).toContain(`${prefix}/assignment/broken`);
  });

  it('a throwing handler is contained: later events still arrive', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const snap = await a.map.load();
    const seen: string[] = [];
    const w = await a.map.watch(snap, {
      onPut: (k) => {
        seen.push(k);
        if (k === 'boom') throw new Error('handler bug');
      },
      onDelete: () => undefined,
    });
    cleanups.push(() => w.cancel());
    await a.map.durablePut('boom', { weight: 1, by: 'a' });
    await a.map.durablePut('after', { weight: 2, by: 'a' });
    await waitFor(() => seen.includes('after'), { timeoutMs: 15_000, what: 'event after the throwing one' });
    expect(a.errors.map((e) => e.message)).toContain('handler bug');
  });

  it('a watch started from a compacted revision reloads and delivers the difference', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    await a.map.durablePut('stays', { weight: 1, by: 'a' });
    await a.map.durablePut('changes', { weight: 1, by: 'a' });
    await a.map.durablePut('goes', { weight: 1, by: 'a' });
    const old = await a.map.load();
    await a.map.durablePut('changes', { weight: 2, by: 'a' });
    await a.map.delete('goes');
    const { revision } = await a.map.durablePut('new', { weight: 3, by: 'a' });
    await client().kv.compact({ revision: String(revision), physical: true });
    const events: string[] = [];
    const w = await a.map.watch(old, {
      onPut: (k, v) => events.push(`put ${k}=${v.weight}`),
      onDelete: (k) => events.push(`del ${k}`),
    });
    cleanups.push(() => w.cancel());
    await waitFor(() => events.length >= 3, { timeoutMs: 15_000, what: 'resync events' });
    expect(events.sort()).toEqual(['del goes', 'put changes=2', 'put new=3']);
    await a.map.durablePut('later', { weight: 4, by: 'a' });
    await waitFor(() => events.includes('put later=4'), { timeoutMs: 15_000, what: 'events after the resync' });
  });
});
