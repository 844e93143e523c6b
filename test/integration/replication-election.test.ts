import type { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { LeaderElection } from '../../src/replication/election.js';
import { EtcdStatus } from '../../src/replication/status.js';
import { testPrefix, useEtcdClients } from '../support/etcd.js';
import { loopStall } from '../support/stall.js';
import { waitFor } from '../support/wait.js';

const { etcd, client, cleanups } = useEtcdClients();

interface Candidate {
  id: string;
  election: LeaderElection;
  log: string[];
  client: Etcd3;
}

function candidate(prefix: string, id: string, journal: string[]): Candidate {
  const log: string[] = [];
  const c = client();
  const election = new LeaderElection(c, {
    prefix,
    name: 'alerts',
    candidateId: id,
    ttlSeconds: 2,
    status: new EtcdStatus(),
    onElected: () => {
      log.push('elected');
      journal.push(`+${id}`);
    },
    onResigned: (why) => {
      log.push(`resigned: ${why}`);
      journal.push(`-${id}`);
    },
  });
  cleanups.push(() => election.stop());
  election.start();
  return { id, election, log, client: c };
}

/** From a journal of +id / -id events: the most replicas that believed they led at the same time. */
function maxConcurrentLeaders(journal: string[]): number {
  const leading = new Set<string>();
  let max = 0;
  for (const e of journal) {
    if (e.startsWith('+')) leading.add(e.slice(1));
    else leading.delete(e.slice(1));
    max = Math.max(max, leading.size);
  }
  return max;
}

describe('LeaderElection (real etcd)', () => {
  it('elects exactly one leader and fails over when its lease is revoked', async () => {
    const prefix = testPrefix();
    const journal: string[] = [];
    const cands = ['a', 'b', 'c'].map((id) => candidate(prefix, id, journal));
    const first = await waitFor(() => cands.find((c) => c.election.isLeader()), { timeoutMs: 15_000, what: 'a leader' });
    expect(cands.filter((c) => c.election.isLeader())).toHaveLength(1);
    expect(await first.election.leader()).toBe(first.id);

    const stall = loopStall();
    const t0 = Date.now();
    await client().leaseClient.leaseRevoke({ ID: first.election.leaseId()! });
    const second = await waitFor(() => cands.find((c) => c !== first && c.election.isLeader()), {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'a new leader',
    });
    const failoverMs = Date.now() - t0;
    await waitFor(() => !first.election.isLeader(), { timeoutMs: 10_000, what: 'old leader resigned' });
    const stalled = await stall.maxMs();
    stall.stop();
    expect(first.log[0]).toBe('elected');
    expect(first.log[1]).toMatch(/^resigned: /);
    expect(await second.election.leader()).toBe(second.id);
    // The watch on the leader key, not the TTL, drives it; plus whatever this process's event loop stalled meanwhile.
    expect(failoverMs, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThan(2000 + stalled);
    expect(cands.filter((c) => c.election.isLeader())).toHaveLength(1);
    // An outside revoke removes the lease at once: the old leader learns it from its watch at about the
    // moment the successor does, so the two may overlap by a few ms (unlike expiry, see the next test).
    expect(journal.filter((e) => e.startsWith('+'))).toEqual([`+${first.id}`, `+${second.id}`]);
    expect(journal.filter((e) => e.startsWith('-'))).toEqual([`-${first.id}`]);
  });

  it('a stopped leader hands over; a leader cut off from etcd steps down by itself, and one leader remains after etcd returns', async () => {
    const prefix = testPrefix();
    const journal: string[] = [];
    const a = candidate(prefix, 'a', journal);
    await waitFor(() => a.election.isLeader(), { timeoutMs: 15_000, what: 'a leads' });
    const b = candidate(prefix, 'b', journal);
    const c = candidate(prefix, 'c', journal);
    await a.election.stop();
    const next = await waitFor(() => [b, c].find((x) => x.election.isLeader()), { timeoutMs: 15_000, what: 'b or c leads' });
    const other = next === b ? c : b;

    // Freeze etcd longer than the TTL: the leader cannot renew, so it must step down by itself.
    await etcd().pause();
    try {
      await waitFor(() => !next.election.isLeader(), { timeoutMs: 10_000, what: 'leader steps down without etcd' });
    } finally {
      etcd().resume();
    }
    expect(next.log.at(-1)).toMatch(/^resigned: lease not renewed/);
    await waitFor(() => [next, other].some((x) => x.election.isLeader()), { timeoutMs: 15_000, what: 'a leader after etcd returns' });
    expect([next, other].filter((x) => x.election.isLeader())).toHaveLength(1);
    expect(maxConcurrentLeaders(journal)).toBe(1);
  });

  it('a crashed leader (its lease left to expire) is replaced within one TTL', async () => {
    const prefix = testPrefix();
    const journal: string[] = [];
    const a = candidate(prefix, 'a', journal);
    await waitFor(() => a.election.isLeader(), { timeoutMs: 15_000, what: 'a leads' });
    const b = candidate(prefix, 'b', journal);
    await waitFor(async () => (await b.election.leader()) === 'a', { timeoutMs: 15_000, what: 'b sees a lead' });
    const stall = loopStall();
    const t0 = Date.now();
    await a.election.stop({ revoke: false }); // no revoke, no more keepalives: like kill -9
    await waitFor(() => b.election.isLeader(), { timeoutMs: 10_000, intervalMs: 20, what: 'b takes over' });
    const took = Date.now() - t0;
    const stalled = await stall.maxMs();
    stall.stop();
    // TTL 2 s from the last renewal, plus b's retry tick (TTL/3) and 1 s, plus whatever this process's loop stalled.
    expect(took, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThanOrEqual(2000 + 700 + 1000 + stalled);
  });
});
