// etcd going away (frozen with SIGSTOP, or killed and restarted on the same data dir): calls fail fast
// with a typed error, the status says since when etcd is unreachable, the live set does not flip-flop,
// and once etcd is back every client recovers by itself: writes succeed, watches resume where they
// stopped (nothing lost, nothing twice), replicas are registered, a leader is elected.
import type { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LeaderElection } from '../../src/replication/election.js';
import { EtcdUnavailableError } from '../../src/replication/errors.js';
import { ReplicatedMap } from '../../src/replication/map.js';
import { ReplicaRegistry } from '../../src/replication/registry.js';
import { EtcdStatus } from '../../src/replication/status.js';
import { etcdTestClient, testPrefix, useEtcd } from '../support/etcd.js';
import { loopStall } from '../support/stall.js';
import { waitFor } from '../support/wait.js';

const etcd = useEtcd();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  try {
    etcd().resume(); // a failed test may have left it frozen
  } catch {
    // etcd never started: the tests already failed with the reason
  }
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const valueSchema = z.object({ n: z.number() }).strict();

interface Replica {
  id: string;
  client: Etcd3;
  status: EtcdStatus;
  registry: ReplicaRegistry;
  map: ReplicatedMap<{ n: number }>;
  election: LeaderElection;
  events: string[];
}

async function replica(prefix: string, id: string): Promise<Replica> {
  const client = etcdTestClient(etcd());
  cleanups.push(async () => client.close());
  const status = new EtcdStatus();
  const registry = new ReplicaRegistry(client, { prefix, replicaId: id, address: `127.0.0.1:1`, leaseTtlSeconds: 3, status });
  cleanups.push(() => registry.stop());
  await registry.start();
  const map = new ReplicatedMap(client, { prefix: `${prefix}/m/`, parse: (v) => valueSchema.parse(v), status });
  const events: string[] = [];
  const w = await map.watch(await map.load(), {
    onPut: (k, v) => events.push(`put ${k}=${v.n}`),
    onDelete: (k) => events.push(`del ${k}`),
  });
  cleanups.push(() => w.cancel());
  const election = new LeaderElection(client, { prefix, name: 'alerts', candidateId: id, ttlSeconds: 3, status });
  cleanups.push(() => election.stop());
  election.start();
  return { id, client, status, registry, map, election, events };
}

/** Retries a write until etcd takes it (what a caller does after EtcdUnavailableError). */
async function putEventually(r: Replica, key: string, n: number): Promise<void> {
  await waitFor(
    async () => {
      await r.map.durablePut(key, { n });
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: `put ${key} once etcd is back` },
  );
}

async function expectFastTypedFailure(r: Replica): Promise<number> {
  const stall = loopStall();
  const t0 = Date.now();
  const err = await r.map.durablePut('during-outage', { n: -1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = Date.now() - t0;
  const stalled = await stall.maxMs();
  stall.stop();
  expect(err).toBeInstanceOf(EtcdUnavailableError);
  expect((err as EtcdUnavailableError).code).toBe('UNAVAILABLE');
  // Request deadline 1 s, plus 2 s, plus whatever this process's event loop stalled (a starved machine).
  expect(ms, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThan(3000 + stalled);
  return ms;
}

describe('replication primitives while etcd is away (real etcd)', () => {
  it('etcd frozen (SIGSTOP) for 4 s: typed fast failures, status degraded, no flip-flop, then recovery', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    await waitFor(() => a.registry.liveIds().join() === 'a,b' && b.registry.liveIds().join() === 'a,b', {
      timeoutMs: 15_000,
      what: 'both live',
    });
    await waitFor(() => [a, b].some((r) => r.election.isLeader()), { timeoutMs: 15_000, what: 'a leader' });
    await a.map.durablePut('before', { n: 1 });
    await waitFor(() => b.events.includes('put before=1'), { timeoutMs: 15_000, what: 'b saw the first put' });
    const liveChanges: string[] = [];
    b.registry.onChange((live) => liveChanges.push([...live.keys()].sort().join()));

    const pausedAt = Date.now();
    await etcd().pause();
    await expectFastTypedFailure(a);
    const snap = a.status.snapshot();
    expect(snap.reachable).toBe(false);
    expect(snap.unreachableSince).toBeGreaterThanOrEqual(pausedAt);
    expect(a.status.describe()).toMatch(/^etcd unreachable since \d{4}-\d\d-\d\dT.*Z \(/);
    await new Promise((r) => setTimeout(r, Math.max(0, 4000 - (Date.now() - pausedAt))));
    expect(b.registry.liveIds().join()).toBe('a,b'); // last known live set kept while etcd is away
    expect(liveChanges).toEqual([]);
    expect([a, b].filter((r) => r.election.isLeader()).length).toBeLessThanOrEqual(1);
    etcd().resume();

    await putEventually(a, 'after', 2);
    await a.map.delete('before');
    await waitFor(() => b.events.includes('del before'), { timeoutMs: 10_000, what: 'b saw the writes after the outage' });
    // The write that timed out had an unknown outcome: etcd, once thawed, may still have applied it.
    const ambiguous = 'put during-outage=-1';
    expect(b.events.filter((e) => e !== ambiguous)).toEqual(['put before=1', 'put after=2', 'del before']);
    if (b.events.includes(ambiguous)) expect(b.events.indexOf(ambiguous)).toBe(1);
    await waitFor(() => a.status.snapshot().reachable, { timeoutMs: 15_000, what: 'status back to reachable' });
    await waitFor(() => [a, b].every((r) => r.registry.liveIds().join() === 'a,b' && r.registry.leaseId()), {
      timeoutMs: 15_000,
      what: 'both registered and live again',
    });
    await waitFor(() => [a, b].filter((r) => r.election.isLeader()).length === 1, { timeoutMs: 15_000, what: 'one leader again' });
  });

  it('etcd killed and restarted on the same data dir: watches resume without loss or duplicates', async () => {
    const prefix = testPrefix();
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    await a.map.durablePut('k1', { n: 1 });
    await waitFor(() => b.events.length === 1, { timeoutMs: 15_000, what: 'first event' });

    await etcd().kill();
    await expectFastTypedFailure(a);
    expect(a.status.snapshot().reachable).toBe(false);
    await new Promise((r) => setTimeout(r, 3000));
    await etcd().restart();

    // Written right after the restart, likely before b's watch has reconnected: it must resume from its revision.
    await putEventually(a, 'k2', 2);
    await a.map.durablePut('k3', { n: 3 });
    await a.map.delete('k1');
    await a.map.durablePut('k2', { n: 22 });
    const expected = ['put k1=1', 'put k2=2', 'put k3=3', 'del k1', 'put k2=22'];
    await waitFor(() => a.events.length >= expected.length && b.events.length >= expected.length, {
      timeoutMs: 15_000,
      what: 'both watches caught up',
    });
    expect(b.events).toEqual(expected);
    expect(a.events).toEqual(expected);
    await waitFor(() => [a, b].every((r) => r.registry.liveIds().join() === 'a,b' && r.registry.leaseId()), {
      timeoutMs: 15_000,
      what: 'both registered and live again',
    });
    await waitFor(() => [a, b].filter((r) => r.election.isLeader()).length === 1, { timeoutMs: 15_000, what: 'one leader' });
    await waitFor(() => b.status.snapshot().reachable, { timeoutMs: 15_000, what: 'b status reachable' });
  });
});
