import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SnapshotCache } from '../../src/xds/cache.js';
import type { Snapshot } from '../../src/xds/snapshot.js';

const snap = (version: string): Snapshot => ({ version, publishedAt: 0, types: {} as Snapshot['types'] });

/** Runs the event loop until the cache's queue is empty (a request would run at once); returns the turns it took. */
async function settle(cache: SnapshotCache): Promise<number> {
  for (let turns = 0; ; turns++) {
    let now = false;
    cache.inTurn(() => (now = true));
    if (now) return turns;
    await tick();
  }
}

// sliceMs 0: a slice ends after every 16 streams (the deadline is checked every 16), so the slices are deterministic.
describe('SnapshotCache fan-out in slices', () => {
  it('serves every stream once per publish, 16 per slice with a 0 ms slice, and tells observers at once', async () => {
    const cache = new SnapshotCache(0);
    const pumped: string[][] = Array.from({ length: 40 }, () => []);
    pumped.forEach((seen, i) => cache.subscribeStream(() => seen.push(`${i}@${cache.current()!.version}`)));
    const observed: Array<[string, string | undefined]> = [];
    cache.subscribe((next, prev) => observed.push([next.version, prev?.version]));
    cache.publish(snap('v1'));
    expect(observed).toEqual([['v1', undefined]]);
    expect(pumped.filter((p) => p.length === 1)).toHaveLength(16); // the first slice ran synchronously
    expect(await settle(cache)).toBeGreaterThanOrEqual(2);
    expect(pumped.map((p) => p.length)).toEqual(Array(40).fill(1));
  });

  it('holds requests that arrive during a fan-out behind the streams queued before them, in arrival order', async () => {
    const cache = new SnapshotCache(0);
    const events: string[] = [];
    for (let i = 0; i < 40; i++) cache.subscribeStream(() => events.push(`pump ${i}`));
    cache.inTurn(() => events.push('before')); // idle: runs at once
    cache.publish(snap('v1'));
    cache.inTurn(() => events.push('ack a'));
    cache.inTurn(() => events.push('ack b'));
    expect(events).not.toContain('ack a');
    await settle(cache);
    expect(events[0]).toBe('before');
    expect(events.slice(-2)).toEqual(['ack a', 'ack b']);
    expect(events.indexOf('ack a')).toBe(events.indexOf('pump 39') + 1);
  });

  it('a publish during a fan-out: streams not yet served get the newest when their turn comes, those served go again', async () => {
    const cache = new SnapshotCache(0);
    const seen: string[][] = Array.from({ length: 40 }, () => []);
    seen.forEach((s) => cache.subscribeStream(() => s.push(cache.current()!.version)));
    cache.publish(snap('v1'));
    cache.publish(snap('v2')); // before the first fan-out's second slice
    await settle(cache);
    expect(seen.slice(0, 16).every((s) => s.join() === 'v1,v2')).toBe(true);
    expect(seen.slice(16).every((s) => s.join() === 'v2')).toBe(true); // served once, with the newest
  });

  it('nothing starves while publishes keep coming: every stream is served in turn, a held request runs in its turn', async () => {
    const cache = new SnapshotCache(0);
    const pumps = Array<number>(40).fill(0);
    pumps.forEach((_, i) => cache.subscribeStream(() => pumps[i]!++));
    let heldRanAt = -1;
    for (let t = 0; t < 10; t++) {
      cache.publish(snap(`v${t}`)); // a new publish every turn of the loop, each turn serves one slice (16)
      if (t === 1) cache.inTurn(() => (heldRanAt = t));
      await tick();
    }
    expect(Math.min(...pumps)).toBeGreaterThanOrEqual(3);
    expect(heldRanAt).toBeGreaterThanOrEqual(1);
    expect(heldRanAt).toBeLessThanOrEqual(4); // behind the ≤ 40 pumps queued before it, not behind later publishes
  });

  it('a held request that publishes: the requests held before that publish run first, then its fan-out', async () => {
    const cache = new SnapshotCache(0);
    const events: string[] = [];
    for (let i = 0; i < 40; i++) cache.subscribeStream(() => events.push(`pump ${cache.current()!.version}`));
    cache.publish(snap('v1'));
    cache.inTurn(() => {
      events.push('ack 1 publishes');
      cache.publish(snap('v2'));
    });
    cache.inTurn(() => events.push('ack 2'));
    await tick();
    cache.inTurn(() => events.push('ack 3')); // arrives during v1's fan-out, after ack 2
    await settle(cache);
    const at = (e: string) => events.indexOf(e);
    expect(at('ack 1 publishes')).toBeGreaterThan(events.lastIndexOf('pump v1'));
    expect(at('ack 2')).toBe(at('ack 1 publishes') + 1);
    expect(at('ack 3')).toBe(at('ack 2') + 1);
    expect(events.indexOf('pump v2')).toBeGreaterThan(at('ack 3'));
    expect(events.filter((e) => e === 'pump v2')).toHaveLength(40);
  });

  it('a held request whose publish completes at once: what that fan-out held runs after the requests held before it', async () => {
    const cache = new SnapshotCache(0);
    const events: string[] = [];
    const unsubscribe = Array.from({ length: 40 }, (_, i) =>
      cache.subscribeStream(() => {
        if (i === 0 && cache.current()!.version === 'v2') cache.inTurn(() => events.push('request during v2'));
      }),
    );
    cache.publish(snap('v1')); // 40 streams: sliced, so the next two wait
    cache.inTurn(() => {
      events.push('ack 1 publishes');
      unsubscribe.slice(10).forEach((u) => u());
      cache.publish(snap('v2')); // 10 streams: one slice, done at once
    });
    cache.inTurn(() => events.push('ack 2'));
    await settle(cache);
    expect(events).toEqual(['ack 1 publishes', 'ack 2', 'request during v2']);
  });

  it('a stream that unsubscribes during a fan-out is not served afterwards', async () => {
    const cache = new SnapshotCache(0);
    const counts = Array<number>(40).fill(0);
    const unsubscribe = counts.map((_, i) => cache.subscribeStream(() => counts[i]!++));
    cache.publish(snap('v1'));
    unsubscribe[30]!();
    await settle(cache);
    expect(counts[30]).toBe(0);
    expect(counts.filter((c) => c === 1)).toHaveLength(39);
  });

  it('with the default slice, a fan-out to a few streams completes synchronously (no request is held)', () => {
    const cache = new SnapshotCache();
    let pumps = 0;
    for (let i = 0; i < 10; i++) cache.subscribeStream(() => pumps++);
    cache.publish(snap('v1'));
    let ran = false;
    cache.inTurn(() => (ran = true));
    expect([pumps, ran]).toEqual([10, true]);
  });
});
