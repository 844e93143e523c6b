import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckConfig } from '../../src/config/schema.js';
import type { ProbeOutcome } from '../../src/core/model.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { ProbeScheduler, type ProbeJob } from '../../src/checks/scheduler.js';
import type { CheckResult, RunCheck, RunCheckOptions } from '../../src/checks/types.js';
import { mulberry32 } from '../support/prng.js';

const TCP: CheckConfig = { tcp: {} };

const seeded = mulberry32;

const job = (id: string, over: Partial<ProbeJob> = {}): ProbeJob => ({
  id,
  target: { address: '127.0.0.1', port: 1 },
  check: TCP,
  intervalMs: 1000,
  timeoutMs: 500,
  jitterPercent: 10,
  ...over,
});

interface Call {
  id: string;
  at: number;
  opts: RunCheckOptions;
  resolve: (r: CheckResult) => void;
}

/** A fake RunCheck: records calls (keyed by target port) and lets the test settle them. */
function fakeRun(auto?: { afterMs: number; ok?: boolean }) {
  const calls: Call[] = [];
  let active = 0;
  let maxActive = 0;
  const run: RunCheck = (target, _check, opts) =>
    new Promise<CheckResult>((resolve) => {
      active++;
      maxActive = Math.max(maxActive, active);
      const settle = (r: CheckResult) => {
        active--;
        resolve(r);
      };
      calls.push({ id: String(target.port), at: Date.now(), opts, resolve: settle });
      if (auto) setTimeout(() => settle({ ok: auto.ok ?? true, detail: 'fake', latencyMs: auto.afterMs }), auto.afterMs);
    });
  return {
    run,
    calls,
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
  };
}

/** Jobs whose target port encodes their index, so the fake run knows which job it serves. */
const jobN = (i: number, over: Partial<ProbeJob> = {}): ProbeJob => job(`j${i}`, { target: { address: '127.0.0.1', port: i }, ...over });

/** stop() waits for in-flight probes, whose fake completions need the fake clock to move. */
async function stopUnderFakeTimers(s: ProbeScheduler): Promise<void> {
  const stopped = s.stop();
  await vi.runAllTimersAsync();
  await stopped;
}

/** Returns the given values in order, then `rest`. */
const sequence =
  (values: number[], rest = 0.5) =>
  () =>
    values.shift() ?? rest;

describe('ProbeScheduler', () => {
  let results: Array<{ id: string; outcome: ProbeOutcome }>;
  const onResult = (id: string, outcome: ProbeOutcome) => void results.push({ id, outcome });

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(1_000_000);
    results = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spreads the first runs of 5,000 jobs over the first interval, with one timer', async () => {
    const t0 = Date.now();
    const firsts = new Map<number, number>();
    const run: RunCheck = async (target) => {
      if (!firsts.has(target.port)) firsts.set(target.port, Date.now() - t0);
      return { ok: true, detail: 'instant', latencyMs: 0 };
    };
    const s = new ProbeScheduler({ run, onResult, concurrency: 10_000, random: seeded(1) });
    for (let i = 0; i < 5000; i++) s.upsert(jobN(i, { intervalMs: 5000, timeoutMs: 1000 }));
    s.start();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(4999);
    expect(firsts.size).toBeGreaterThan(4990);
    const buckets = new Array<number>(10).fill(0);
    for (const at of firsts.values()) buckets[Math.min(9, Math.floor(at / 500))]!++;
    for (const b of buckets) expect(b).toBeGreaterThan(400); // ~500 each: no thundering herd
    for (const b of buckets) expect(b).toBeLessThan(600);
    // Between probes only the scheduler's single timer is pending, not one per job.
    expect(vi.getTimerCount()).toBe(1);
    expect(s.stats()).toMatchObject({ jobs: 5000, inFlight: 0, lateRuns: 0 });
    await stopUnderFakeTimers(s);
  });

  it('runs each job every interval ± jitter', async () => {
    const fake = fakeRun({ afterMs: 5 });
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 4, random: seeded(2) });
    s.upsert(jobN(1, { intervalMs: 1000, jitterPercent: 20 }));
    s.start();
    await vi.advanceTimersByTimeAsync(30_000);
    const at = fake.calls.map((c) => c.at);
    expect(at.length).toBeGreaterThanOrEqual(25);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(800 - 1);
      expect(g).toBeLessThanOrEqual(1200 + 1);
    }
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(100); // jitter is actually applied
    expect(results.length).toBe(at.length);
    expect(results.every((r) => r.id === 'j1' && r.outcome.ok && r.outcome.detail === 'fake')).toBe(true);
    await stopUnderFakeTimers(s);
  });

  it('never overlaps a job with itself: a tick while it runs is skipped', async () => {
    const fake = fakeRun(); // settled by hand
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 4, random: () => 0, graceMs: 60_000 });
    s.upsert(jobN(1, { intervalMs: 100, timeoutMs: 10_000, jitterPercent: 0 }));
    s.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(550); // five more ticks come due while the first probe runs
    expect(fake.calls).toHaveLength(1);
    expect(s.stats()).toMatchObject({ inFlight: 1, skipped: 5 });
    expect(s.jobStats('j1')).toMatchObject({ runs: 1, skipped: 5 });
    fake.calls[0]!.resolve({ ok: true, detail: 'done', latencyMs: 551 });
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.calls).toHaveLength(2);
    expect(fake.maxActive).toBe(1);
    expect(results).toHaveLength(1);
    fake.calls[1]!.resolve({ ok: true, detail: 'done', latencyMs: 1 });
    await s.stop();
  });

  it('respects the concurrency cap', async () => {
    const fake = fakeRun({ afterMs: 200 });
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 3, random: seeded(3) });
    for (let i = 0; i < 30; i++) s.upsert(jobN(i, { intervalMs: 1000, timeoutMs: 500 }));
    s.start();
    let maxQueued = 0;
    for (let t = 0; t < 3000; t += 10) {
      await vi.advanceTimersByTimeAsync(10);
      maxQueued = Math.max(maxQueued, s.stats().queued);
      expect(s.stats().inFlight).toBeLessThanOrEqual(3);
    }
    expect(fake.maxActive).toBe(3);
    expect(maxQueued).toBeGreaterThan(0);
    expect(new Set(fake.calls.map((c) => c.id)).size).toBe(30); // overloaded, yet every job gets its turn
    expect(s.stats().skipped).toBeGreaterThan(0); // a job still waiting when due again is not queued twice
    await stopUnderFakeTimers(s);
  });

  it('probes that hang until their timeout do not delay another job: it keeps its schedule to the millisecond', async () => {
    // Scenario 3 on the fake clock: two targets never answer (their probes end only at the timeout), one answers at once.
    const calls: Array<{ id: string; at: number }> = [];
    const run: RunCheck = (target, _check, opts) => {
      calls.push({ id: String(target.port), at: Date.now() });
      if (target.port === 3) return Promise.resolve({ ok: true, detail: 'fast', latencyMs: 1 });
      // Like the real checkers: a target that never answers ends at the check's own timeout.
      return new Promise<CheckResult>((resolve) =>
        setTimeout(() => resolve({ ok: false, detail: `timeout after ${opts.timeoutMs} ms`, latencyMs: opts.timeoutMs }), opts.timeoutMs),
      );
    };
    const s = new ProbeScheduler({ run, onResult, concurrency: 4, random: () => 0 });
    for (const i of [1, 2, 3]) s.upsert(jobN(i, { intervalMs: 1000, timeoutMs: 500, jitterPercent: 0 }));
    s.start();
    await vi.advanceTimersByTimeAsync(10_000);
    const fast = calls.filter((c) => c.id === '3').map((c) => c.at);
    expect(fast.length).toBeGreaterThanOrEqual(9);
    expect(fast.slice(1).map((t, i) => t - fast[i]!)).toEqual(new Array<number>(fast.length - 1).fill(1000));
    expect(s.jobStats('j3')).toMatchObject({ maxLagMs: 0, skipped: 0 });
    // The hanging ones kept being probed meanwhile, each probe ending at its timeout.
    for (const id of ['1', '2']) expect(calls.filter((c) => c.id === id).length).toBe(fast.length);
    const hung = results.filter((r) => r.id !== 'j3');
    expect(hung.length).toBeGreaterThanOrEqual(6);
    for (const r of hung) expect(r.outcome).toMatchObject({ ok: false, latencyMs: 500 });
    await stopUnderFakeTimers(s);
  });

  it('starts queued probes in due order (FIFO by due time)', async () => {
    const fake = fakeRun({ afterMs: 100 });
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 1, random: sequence([0.05, 0.01, 0.03, 0.02, 0.04]) });
    s.start();
    for (let i = 0; i < 5; i++) s.upsert(jobN(i, { intervalMs: 1000, jitterPercent: 0 })); // due at 50, 10, 30, 20, 40 ms
    await vi.advanceTimersByTimeAsync(600);
    expect(fake.calls.map((c) => c.id)).toEqual(['1', '3', '2', '4', '0']);
    expect(fake.calls.map((c) => c.at - 1_000_000)).toEqual([10, 110, 210, 310, 410]);
    expect(s.jobStats('j0')).toMatchObject({ runs: 1, lastLagMs: 360 });
    await stopUnderFakeTimers(s);
  });

  it('counts late runs when the cap holds probes back past 10% of their interval', async () => {
    const fake = fakeRun({ afterMs: 100 });
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 1, random: () => 0 });
    for (let i = 0; i < 5; i++) s.upsert(jobN(i, { intervalMs: 1000, jitterPercent: 0 }));
    s.start();
    await vi.advanceTimersByTimeAsync(600);
    const st = s.stats();
    expect(st.completed).toBe(5);
    expect(st.maxLagMs).toBe(400); // the fifth waited for four 100 ms probes
    expect(st.lateRuns).toBe(3); // lags 200, 300 and 400 ms exceed 100 ms
    await stopUnderFakeTimers(s);
  });

  it('remove() drops queued runs, aborts in-flight probes and discards their results', async () => {
    const fake = fakeRun();
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 1, random: () => 0, graceMs: 60_000 });
    s.upsert(jobN(1, { intervalMs: 100, timeoutMs: 10_000, jitterPercent: 0 }));
    s.upsert(jobN(2, { intervalMs: 100, timeoutMs: 10_000, jitterPercent: 0 }));
    s.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls.map((c) => c.id)).toEqual(['1']);
    expect(s.stats()).toMatchObject({ jobs: 2, inFlight: 1, queued: 1 });
    expect(s.remove('j2')).toBe(true);
    expect(s.stats()).toMatchObject({ jobs: 1, queued: 0 });
    expect(s.remove('j1')).toBe(true);
    expect(s.remove('j1')).toBe(false);
    expect(fake.calls[0]!.opts.signal?.aborted).toBe(true);
    fake.calls[0]!.resolve({ ok: false, detail: 'aborted', latencyMs: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls).toHaveLength(1);
    expect(results).toEqual([]);
    expect(s.stats()).toMatchObject({ jobs: 0, inFlight: 0, queued: 0 });
    expect(vi.getTimerCount()).toBe(0); // nothing due: no timer
    await s.stop();
  });

  it('upsert() replaces a job in place: new interval applies, no duplicate, changed target drops stale results', async () => {
    const fake = fakeRun();
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 4, random: () => 0.5, graceMs: 60_000 });
    s.upsert(jobN(1, { intervalMs: 60_000, jitterPercent: 0, timeoutMs: 1000 }));
    s.start();
    await vi.advanceTimersByTimeAsync(20_000); // first run due at 30 s
    expect(fake.calls).toHaveLength(0);
    s.upsert(jobN(1, { intervalMs: 1000, jitterPercent: 0, timeoutMs: 1000 })); // shorter interval: rescheduled within it
    expect(s.stats().jobs).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(fake.calls).toHaveLength(1);
    // Same id, new target while the probe runs: its result no longer applies.
    s.upsert(job('j1', { target: { address: '127.0.0.1', port: 2 }, intervalMs: 1000, jitterPercent: 0, timeoutMs: 1000 }));
    fake.calls[0]!.resolve({ ok: true, detail: 'old target', latencyMs: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(results).toEqual([]);
    expect(fake.calls.map((c) => c.id)).toEqual(['1', '2']);
    fake.calls[1]!.resolve({ ok: true, detail: 'new target', latencyMs: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(results.map((r) => r.outcome.detail)).toEqual(['new target']);
    await s.stop();
  });

  it('stop() waits for in-flight probes, is idempotent and nothing runs afterwards', async () => {
    const fake = fakeRun();
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 1, random: () => 0, graceMs: 60_000 });
    s.upsert(jobN(1, { intervalMs: 100, timeoutMs: 10_000, jitterPercent: 0 }));
    s.upsert(jobN(2, { intervalMs: 100, timeoutMs: 10_000, jitterPercent: 0 }));
    s.start();
    await vi.advanceTimersByTimeAsync(1);
    let stopped = false;
    const p1 = s.stop().then(() => void (stopped = true));
    const p2 = s.stop();
    expect(s.stats().queued).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(stopped).toBe(false);
    fake.calls[0]!.resolve({ ok: true, detail: 'late', latencyMs: 1000 });
    await Promise.all([p1, p2]);
    expect(stopped).toBe(true);
    expect(results.map((r) => r.id)).toEqual(['j1']); // the drained probe's result is delivered
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    await s.stop();
  });

  it('stamps outcomes with the injected clock at completion', async () => {
    const fake = fakeRun({ afterMs: 40 });
    let clock = 5_000;
    const s = new ProbeScheduler({ run: fake.run, onResult, concurrency: 1, random: () => 0, now: () => Date.now() + clock });
    s.upsert(jobN(1, { intervalMs: 1000, jitterPercent: 0 }));
    s.start();
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(41); // first run at once (random 0), done 40 ms later
    expect(results).toHaveLength(1);
    expect(results[0]!.outcome).toEqual({ at: t0 + 40 + clock, ok: true, latencyMs: 40, detail: 'fake' });
    clock = 0;
    await stopUnderFakeTimers(s);
  });

  it('turns a throwing run into a failure and gives up on one that never settles', async () => {
    const run: RunCheck = (target) => (target.port === 1 ? Promise.reject(new Error('kaboom')) : new Promise(() => {}));
    const s = new ProbeScheduler({ run, onResult, concurrency: 4, random: () => 0, graceMs: 100 });
    s.upsert(jobN(1, { intervalMs: 10_000, timeoutMs: 200 }));
    s.upsert(jobN(2, { intervalMs: 10_000, timeoutMs: 200 }));
    s.start();
    await vi.advanceTimersByTimeAsync(301);
    const byId = Object.fromEntries(results.map((r) => [r.id, r.outcome]));
    expect(byId.j1).toMatchObject({ ok: false, detail: 'kaboom' });
    expect(byId.j2).toMatchObject({ ok: false, timedOut: true, detail: 'timeout after 200 ms' });
    await s.stop();
  });

  it('keeps going when onResult throws', async () => {
    const fake = fakeRun({ afterMs: 1 });
    let n = 0;
    const s = new ProbeScheduler({
      run: fake.run,
      onResult: () => {
        n++;
        throw new Error('consumer bug');
      },
      concurrency: 1,
      random: () => 0,
    });
    s.upsert(jobN(1, { intervalMs: 100, jitterPercent: 0, timeoutMs: 50 }));
    s.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(n).toBeGreaterThanOrEqual(9);
    await stopUnderFakeTimers(s);
  });

  it('rejects nonsense jobs and options with InvalidArgumentError', () => {
    const run: RunCheck = async () => ({ ok: true, detail: '', latencyMs: 0 });
    expect(() => new ProbeScheduler({ run, onResult, concurrency: 0 })).toThrow(InvalidArgumentError);
    const s = new ProbeScheduler({ run, onResult, concurrency: 1 });
    expect(() => s.upsert(jobN(1, { intervalMs: 0 }))).toThrow(InvalidArgumentError);
    expect(() => s.upsert(jobN(1, { timeoutMs: -1 }))).toThrow(InvalidArgumentError);
    expect(() => s.upsert(jobN(1, { jitterPercent: 101 }))).toThrow(InvalidArgumentError);
    expect(() => s.upsert(job(''))).toThrow(InvalidArgumentError);
  });
});
