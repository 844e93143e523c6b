import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { storeSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore, RetentionJob, retentionFromConfig, type RetentionPolicy, type Store } from '../../src/store/index.js';

const HOUR = 3_600_000;

function capture(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

/** A store whose cleanup records its calls and can be told to fail. */
function fakeStore(fail: () => boolean): { store: Store; calls: Array<[number, RetentionPolicy]> } {
  const calls: Array<[number, RetentionPolicy]> = [];
  const real = createMemoryStore();
  const store: Store = {
    ...real,
    cleanup(now, retention) {
      calls.push([now, retention]);
      if (fail()) throw new Error('disk on fire');
      return { historyDeleted: 1, historyDownsampled: 2, alertsDeleted: 3 };
    },
  };
  return { store, calls };
}

describe('retention', () => {
  it('derives the policy from the config (hours to ms)', () => {
    const cfg = storeSchema.parse({ retention: { historyHours: 48, fullResolutionHours: 0.5, alertsHours: 1 } });
    expect(retentionFromConfig(cfg)).toEqual({ historyMs: 48 * HOUR, fullResolutionMs: HOUR / 2, alertsMs: HOUR });
    expect(retentionFromConfig(storeSchema.parse({}))).toEqual({ historyMs: 168 * HOUR, fullResolutionMs: 24 * HOUR, alertsMs: 720 * HOUR });
  });

  it('runOnce cleans up with the injected clock and logs the counts', () => {
    const { store, calls } = fakeStore(() => false);
    const { logger, lines } = capture();
    const job = new RetentionJob(store, storeSchema.parse({}), { logger, now: () => 12_345 });
    expect(job.runOnce()).toEqual({ historyDeleted: 1, historyDownsampled: 2, alertsDeleted: 3 });
    expect(calls).toEqual([[12_345, retentionFromConfig(storeSchema.parse({}))]]);
    expect(lines.find((l) => l.msg === 'retention cleanup')).toMatchObject({
      historyDeleted: 1,
      historyDownsampled: 2,
      alertsDeleted: 3,
      component: 'retention',
    });
  });

  it('runs every cleanupIntervalMs, survives a failing cleanup, and stops (idempotently)', () => {
    vi.useFakeTimers();
    try {
      let n = 0;
      const { store, calls } = fakeStore(() => ++n === 2);
      const { logger, lines } = capture();
      const job = new RetentionJob(store, { ...storeSchema.parse({}), cleanupIntervalMs: 1000 }, { logger });
      job.start();
      job.start(); // a second start does not add a second timer
      vi.advanceTimersByTime(999);
      expect(calls).toHaveLength(0);
      vi.advanceTimersByTime(3001);
      expect(calls).toHaveLength(4); // the second one threw, and the timer went on
      expect(lines.filter((l) => l.msg === 'retention cleanup failed; retrying at the next interval' && l.level === 50)).toHaveLength(1);
      expect(lines.filter((l) => l.msg === 'retention cleanup')).toHaveLength(3);
      job.stop();
      job.stop();
      vi.advanceTimersByTime(10_000);
      expect(calls).toHaveLength(4);
      job.start(); // restartable
      vi.advanceTimersByTime(1000);
      expect(calls).toHaveLength(5);
      job.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('runs against a real store end to end', () => {
    const store = createMemoryStore();
    const now = 1_000 * HOUR;
    store.appendHistory(
      [now - 200 * HOUR, now - 1].map(
        (at) => ({ key: 'c/a:1', cluster: 'c', at, score: 1, status: 'HEALTHY', circuit: 'closed', health: 'HEALTHY', weight: 1 }) as const,
      ),
    );
    const job = new RetentionJob(store, storeSchema.parse({}), { now: () => now });
    expect(job.runOnce()).toEqual({ historyDeleted: 1, historyDownsampled: 0, alertsDeleted: 0 });
    store.close();
    expect(job.runOnce()).toBeUndefined(); // closed store: logged, not thrown
  });
});
