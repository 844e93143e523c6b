import { describe, expect, it } from 'vitest';
import type { Backend } from '../support/backends.js';
import { ejected, INTERVAL, rig, UNHEALTHY_THRESHOLD } from '../support/rig.js';
import { drainSteps, shareStep } from '../support/timeline.js';
import { shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';

/** Scenarios 2, 3, 4, 6 and passive signals. */
describe('health scenarios with a real Envoy', () => {
  it('2: a host failing its health check is drained within interval × threshold + 1 s', async () => {
    const r = await rig(3);
    const [bad, ...good] = r.backends as [Backend, Backend, Backend];
    const key = r.key(bad);
    const start = r.timeline.mark(key, 'health check starts failing');
    bad.setHealthStatus(503);
    // The timeline, in order: failed probe → decision → EDS version → Envoy's ACK of it. One generous outer deadline.
    const [firstFail, decision, eds, ack] = await r.timeline.waitForOrder(key, drainSteps(), {
      after: start,
      timeoutMs: 4 * (INTERVAL * UNHEALTHY_THRESHOLD + 1000),
      what: 'the failing host drained',
    });
    // "interval × threshold + 1 s" as order: decided at exactly the threshold-th failed probe (no passing probe in
    // between) and published before the next probe round of that host.
    const failures = [firstFail!, ...r.timeline.between(firstFail, decision).filter((e) => e.kind === 'probe' && e.key === key)];
    expect(failures.map((e) => e.kind === 'probe' && e.ok)).toEqual(Array<boolean>(UNHEALTHY_THRESHOLD).fill(false));
    expect(r.timeline.between(decision, eds).filter((e) => e.kind === 'probe' && e.key === key)).toEqual([]);
    console.log(
      `[scenario 2] first failed probe → ACK of EDS ${eds!.kind === 'eds' ? eds!.version : ''} in ${ack!.t - firstFail!.t} ms (bar ${INTERVAL * UNHEALTHY_THRESHOLD + 1000} ms from the failure)`,
    );
    await waitFor(async () => ejected(await r.host(bad)), { timeoutMs: 5000, what: 'the failing host ejected in Envoy' });
    const s = await shares(r.url, 600, { concurrency: 6 });
    r.timeline.mark(key, 'share', s.share(bad.name));
    r.timeline.expectOrder(key, [...drainSteps(), shareStep('its share through Envoy below 2%', (v) => v < 0.02)], start);
    expect(s.errors).toBe(0);
    for (const b of good) expect(s.share(b.name)).toBeGreaterThan(0.4);
    const d = r.app.engine.endpoint(key)!.decision;
    expect(d).toMatchObject({ status: 'UNHEALTHY', circuit: 'open', health: 'UNHEALTHY' });
    expect(d.reasons[0]).toMatch(/consecutive failed checks \(last: HTTP 503\)/);
    const later = await shares(r.url, 300, { concurrency: 6 });
    expect(later.share(bad.name)).toBeLessThan(0.02);
    // Stays drained: no EDS version after the drain published it as anything else.
    expect(r.timeline.of('eds', key).filter((e) => e.seq > eds!.seq)).toEqual([]);
  });

  it('3: a slow host and a hanging host are drained; healthy probes keep their schedule', async () => {
    const interval = 1000;
    const timeout = 500;
    const r = await rig(3, {}, interval, timeout);
    const [slow, hung, ok] = r.backends as [Backend, Backend, Backend];
    const t0 = Date.now();
    slow.setDelay(2000); // its limit is the 500 ms check timeout
    hung.setHang(true);
    await waitFor(async () => ejected(await r.host(slow)) && ejected(await r.host(hung)), {
      timeoutMs: interval * UNHEALTHY_THRESHOLD * 1.1 + timeout + 2000,
      intervalMs: 20,
      what: 'slow and hanging hosts ejected',
    });
    console.log(`[scenario 3] slow and hanging hosts drained in ${Date.now() - t0} ms`);
    expect(r.app.engine.endpoint(r.key(slow))!.decision.reasons.join(' ')).toMatch(/timeout after 500 ms/);
    const s = await shares(r.url, 300, { concurrency: 6, timeoutMs: 5000 });
    expect(s.errors).toBe(0);
    expect(s.share(ok.name)).toBe(1);
    // A few more rounds with two probes hanging every time.
    const before = r.app.scheduler.jobStats(r.key(ok))!;
    await waitFor(() => r.app.scheduler.jobStats(r.key(ok))!.runs >= before.runs + 3, { timeoutMs: 6000, what: 'more probe rounds' });
    const okStats = r.app.scheduler.jobStats(r.key(ok))!;
    const hungRounds = r.probes.filter((p) => p.id === r.key(hung) && p.at > t0).map((p) => p.latencyMs);
    const slowRounds = r.probes.filter((p) => p.id === r.key(slow) && p.at > t0 + 100).map((p) => p.latencyMs);
    console.log(
      `[scenario 3] healthy job lag max ${okStats.maxLagMs} ms over ${okStats.runs} runs; hanging probe rounds ${hungRounds.join(', ')} ms; slow ${slowRounds.join(', ')} ms`,
    );
    expect(okStats.maxLagMs).toBeLessThanOrEqual(interval * 0.1);
    expect(hungRounds.length).toBeGreaterThanOrEqual(3);
    for (const ms of [...hungRounds, ...slowRounds]) expect(ms).toBeLessThanOrEqual(timeout * 1.1);
  });

  it('4: a healed host goes half-open, passes probation and ramps up, never above its fair share', async () => {
    const r = await rig(3);
    const [bad] = r.backends as [Backend];
    bad.setHealthStatus(503);
    await waitFor(async () => ejected(await r.host(bad)), { timeoutMs: 5000, intervalMs: 20, what: 'ejected' });
    const healedAt = Date.now();
    bad.setHealthStatus(200);
    const weights: number[] = [];
    const windows: number[] = [];
    await waitFor(
      async () => {
        const h = await r.host(bad);
        if (h && !ejected(h)) {
          weights.push(h.weight);
          const s = await shares(r.url, 150, { concurrency: 5 });
          expect(s.errors).toBe(0);
          windows.push(s.share(bad.name));
        }
        return h?.weight === 100 && !ejected(h);
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the healed host back at full weight' },
    );
    console.log(
      `[scenario 4] full weight ${Date.now() - healedAt} ms after healing; weights seen ${[...new Set(weights)].join(' → ')}; shares ${windows.map((w) => w.toFixed(2)).join(' ')}`,
    );
    const circuits = r.events
      .filter((e) => e.kind === 'endpoint' && e.endpoint.key === r.key(bad))
      .map((e) => (e.kind === 'endpoint' ? e.endpoint.decision.circuit : ''));
    expect(circuits).toEqual(expect.arrayContaining(['open', 'half-open', 'closed']));
    expect(circuits.indexOf('half-open')).toBeLessThan(circuits.lastIndexOf('closed'));
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
    expect(new Set(weights.filter((w) => w > 1 && w < 100)).size).toBeGreaterThanOrEqual(2);
    for (const w of windows) expect(w).toBeLessThanOrEqual(1 / 3 + 0.06);
    const end = await shares(r.url, 600, { concurrency: 6 });
    expect(end.share(bad.name)).toBeGreaterThanOrEqual(0.9 / 3 - 0.03);
  });

  it('passive: a host answering 5xx to real traffic while its checks pass is drained via Envoy load reports', async () => {
    const r = await rig(3);
    const [bad] = r.backends as [Backend];
    bad.setStatus(500);
    const t0 = Date.now();
    await waitFor(
      async () => {
        await shares(r.url, 60, { concurrency: 4 });
        return ejected(await r.host(bad));
      },
      { timeoutMs: 10_000, intervalMs: 0, what: 'the erroring host ejected from load reports' },
    );
    console.log(`[passive] drained ${Date.now() - t0} ms after it started failing real traffic`);
    expect(r.app.engine.endpoint(r.key(bad))!.decision.reasons[0]).toMatch(/^error rate \d+% \(\d+\/\d+\) >= 50% in real traffic/);
    const s = await shares(r.url, 300, { concurrency: 5 });
    expect(s.share(bad.name)).toBeLessThan(0.02);
    expect(s.errors).toBe(0);
  });

  it('6: three of four failing at once: guard caps ejections, never an empty set, says why', async () => {
    const r = await rig(4, { guard: { maxEjectedPercent: 50 } });
    const [a, b, c, d] = r.backends as [Backend, Backend, Backend, Backend];
    const seen: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const hosts = await r.envoy.clusterHosts('demo');
        seen.push(hosts.filter((h) => !ejected(h)).length);
        if (hosts.length !== 4) throw new Error(`Envoy saw ${hosts.length} hosts`);
        await new Promise((res) => setTimeout(res, 25));
      }
    })();
    for (const x of [a, b, c]) x.setHealthStatus(503);
    const verdict = await waitFor(
      () => {
        const v = r.app.engine.clusters().get('demo');
        return v && v.failing === 3 ? v : undefined;
      },
      { timeoutMs: 5000, what: 'three failing endpoints' },
    );
    await waitFor(async () => (await r.envoy.clusterHosts('demo')).filter(ejected).length === 2, { timeoutMs: 3000, what: 'two ejected in Envoy' });
    watching = false;
    await watcher;
    expect(verdict).toMatchObject({ total: 4, failing: 3, ejected: 2, guarded: 1, maxEjected: 2 });
    expect(verdict.reason).toMatch(/^3 of 4 endpoints failing; at most 50% \(2\) may be ejected; 127\.0\.0\.1:\d+ kept at /);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(2);
    const guarded = r.app.engine.endpoints('demo').find((e) => e.decision.guarded)!;
    // Published HEALTHY at the minimum weight (or its normal weight once real traffic vouches for it), never DEGRADED spillover.
    expect(guarded.decision.health).toBe('HEALTHY');
    expect(guarded.decision.reasons.at(-1)).toMatch(/kept in rotation by the guard/);
    const s = await shares(r.url, 600, { concurrency: 6 });
    expect(s.errors).toBe(0);
    expect(s.share(d.name)).toBeGreaterThan(0.3);
    const ejectedNames = r.backends.filter((x) => x !== d && x.port !== guarded.port).map((x) => x.name);
    for (const name of ejectedNames) expect(s.share(name)).toBeLessThan(0.02);
  });
});
