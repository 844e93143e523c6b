import { describe, expect, it } from 'vitest';
import { ReplicaRegistry } from '../../src/replication/registry.js';
import { EtcdStatus } from '../../src/replication/status.js';
import { testPrefix, useEtcdClients } from '../support/etcd.js';
import { loopStall } from '../support/stall.js';
import { waitFor } from '../support/wait.js';

const TTL = 2;
const { client, cleanups } = useEtcdClients();

async function replica(prefix: string, id: string, errors: Error[] = []): Promise<ReplicaRegistry> {
  const r = new ReplicaRegistry(client(), {
    prefix,
    replicaId: id,
    address: `127.0.0.1:${18000 + id.length}`,
    leaseTtlSeconds: TTL,
    status: new EtcdStatus(),
    onError: (e) => errors.push(e),
  });
  cleanups.push(() => r.stop());
  await r.start();
  return r;
}

describe('ReplicaRegistry (real etcd)', () => {
  it('every replica sees the others join, with their advertised address', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    const c = await replica(prefix, 'c');
    for (const r of [a, b, c]) {
      await waitFor(() => r.liveIds().join() === 'a,b,c', { timeoutMs: 15_000, what: 'three live replicas' });
    }
    expect(a.live().get('b')?.address).toBe('127.0.0.1:18001');
    expect(a.leaseId()).toMatch(/^\d+$/);
  });

  it('a crashed replica (keepalives stop, no revoke) leaves the live set within one TTL', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    await waitFor(() => a.liveIds().join() === 'a,b', { timeoutMs: 15_000, what: 'a sees b' });
    const changes: string[] = [];
    a.onChange((live) => changes.push([...live.keys()].sort().join()));
    const stall = loopStall();
    const killedAt = Date.now();
    await b.stop({ revoke: false });
    await waitFor(() => a.liveIds().join() === 'a', { timeoutMs: TTL * 1000 + 5000, intervalMs: 20, what: 'b gone' });
    const goneAfterMs = Date.now() - killedAt;
    const stalled = await stall.maxMs();
    stall.stop();
    // etcd expires a lease at most TTL after its last renewal; allow 1 s for watch delivery, plus whatever this
    // process's event loop stalled meanwhile (a starved machine).
    expect(goneAfterMs, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThanOrEqual(TTL * 1000 + 1000 + stalled);
    expect(changes).toEqual(['a']);
  });

  it('a clean stop leaves at once; a revoked lease makes the replica register again with a new lease', async () => {
    const prefix = testPrefix();
    const errors: Error[] = [];
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b', errors);
    const c = await replica(prefix, 'c');
    await waitFor(() => a.liveIds().join() === 'a,b,c', { timeoutMs: 15_000, what: 'all live' });

    const cLease = c.leaseId()!;
    await c.stop();
    // At once, not after the TTL: the clean stop revoked the lease (etcd knows it no more; an expiring one would
    // still have a TTL), so its key went with it. The wait for a to see that is generous for a loaded machine.
    expect((await client().leaseClient.leaseTimeToLive({ ID: cLease, keys: false })).TTL).toBe('-1');
    await waitFor(() => a.liveIds().join() === 'a,b', { timeoutMs: 15_000, what: 'c gone right after a clean stop' });

    const seen: string[] = [];
    a.onChange((live) => seen.push([...live.keys()].sort().join()));
    const oldLease = b.leaseId()!;
    await client().leaseClient.leaseRevoke({ ID: oldLease });
    await waitFor(() => seen.includes('a'), { timeoutMs: 15_000, what: 'a sees b leave' });
    await waitFor(() => b.leaseId() !== undefined && b.leaseId() !== oldLease, { timeoutMs: 10_000, what: 'b re-registered' });
    await waitFor(() => a.liveIds().join() === 'a,b', { timeoutMs: 15_000, what: 'a sees b back' });
    expect(seen.slice(0, 2)).toEqual(['a', 'a,b']);
    expect(errors.some((e) => /lease/i.test(e.message))).toBe(true);
  });
});
