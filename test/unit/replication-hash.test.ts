import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownerOf } from '../../src/replication/hash.js';
import { replicationConfigSchema } from '../../src/replication/config.js';

const replicaIds = fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 8 });
const keys = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 60 });

describe('ownerOf (rendezvous hashing)', () => {
  it('gives every key exactly one owner, a live replica, whatever the order of the live set', () => {
    fc.assert(
      fc.property(replicaIds, keys, fc.integer(), (ids, ks, seed) => {
        const shuffled = [...ids].sort((a, b) => (a + seed).localeCompare(b + seed));
        for (const k of ks) {
          const owner = ownerOf(k, ids);
          expect(owner).toBeDefined();
          expect(ids).toContain(owner);
          expect(ownerOf(k, shuffled)).toBe(owner);
          expect(ids.filter((id) => ownerOf(k, [id, ...ids.filter((x) => x !== id)]) === id)).toEqual([owner]);
        }
      }),
    );
  });

  it('moves only the keys of a removed replica, and only those', () => {
    fc.assert(
      fc.property(
        replicaIds.filter((ids) => ids.length >= 2),
        keys,
        fc.nat(),
        (ids, ks, pick) => {
          const gone = ids[pick % ids.length]!;
          const rest = ids.filter((id) => id !== gone);
          for (const k of ks) {
            const before = ownerOf(k, ids);
            const after = ownerOf(k, rest);
            if (before === gone) expect(rest).toContain(after);
            else expect(after).toBe(before);
          }
        },
      ),
    );
  });

  it('moves to a new replica only keys that it takes over', () => {
    fc.assert(
      fc.property(replicaIds, fc.stringMatching(/^[A-Z]{1,6}$/), keys, (ids, added, ks) => {
        for (const k of ks) {
          const before = ownerOf(k, ids);
          const after = ownerOf(k, [...ids, added]);
          expect(after === before || after === added).toBe(true);
        }
      }),
    );
  });

  it('has no owner without live replicas and spreads keys roughly evenly', () => {
    expect(ownerOf('a', [])).toBeUndefined();
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const o = ownerOf(`cluster-a/10.0.0.${i % 250}:${8000 + i}`, ['r1', 'r2', 'r3'])!;
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    for (const id of ['r1', 'r2', 'r3']) expect(counts.get(id)).toBeGreaterThan(850);
  });
});

describe('replicationConfigSchema', () => {
  it('fills defaults and rejects bad fields by path', () => {
    const ok = replicationConfigSchema.parse({
      etcd: { endpoints: ['http://127.0.0.1:2379'] },
      replicaId: 'hm-1',
      advertisedAddress: '10.1.2.3:18000',
    });
    expect(ok).toMatchObject({ keyPrefix: '/healthmesh', leaseTtlSeconds: 5, etcd: { requestTimeoutMs: 2000 } });
    const bad = replicationConfigSchema.safeParse({
      etcd: { endpoints: ['127.0.0.1:2379'] },
      keyPrefix: 'healthmesh/',
      leaseTtlSeconds: 0,
      replicaId: 'a b',
      advertisedAddress: 'nowhere',
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['advertisedAddress', 'etcd.endpoints.0', 'keyPrefix', 'leaseTtlSeconds', 'replicaId']);
  });
});
