import { describe, expect, it } from 'vitest';
import type { Backend } from '../support/backends.js';
import { ejected, INTERVAL, rig, UNHEALTHY_THRESHOLD } from '../support/rig.js';
import { drainSteps, shareStep, step, type Step } from '../support/timeline.js';
import { loopStall } from '../support/stall.js';
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
    await waitFor(async () => ejected(await r.host(bad)), { timeoutMs: 15_000, what: 'the failing host ejected in Envoy' });
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
    // The scheduler, its checker and the backends run in this process: a starved machine stalls this event loop and
    // delays every probe timer and timeout by as much. Recorded from before the first probe, for the bounds below.
    const stall = loopStall();
    const r = await rig(3, {}, interval, timeout);
    const [slow, hung, ok] = r.backends as [Backend, Backend, Backend];
    const start = r.timeline.mark(r.key(slow), 'slow and hanging from now');
    slow.setDelay(2000); // its limit is the 500 ms check timeout
    hung.setHang(true);
    for (const b of [slow, hung]) {
      const [, , eds, ack] = await r.timeline.waitForOrder(r.key(b), drainSteps(), {
        after: start,
        timeoutMs: 4 * (interval * UNHEALTHY_THRESHOLD + timeout + 1000),
        what: `the ${b === slow ? 'slow' : 'hanging'} host drained`,
      });
      console.log(
        `[scenario 3] ${b === slow ? 'slow' : 'hanging'} host: EDS ACKed ${ack!.t - start.t} ms after it went bad (EDS ${eds!.kind === 'eds' ? eds!.version : ''})`,
      );
    }
    await waitFor(async () => ejected(await r.host(slow)) && ejected(await r.host(hung)), {
      timeoutMs: 15_000,
      what: 'slow and hanging hosts ejected in Envoy',
    });
    expect(r.app.engine.endpoint(r.key(slow))!.decision.reasons.join(' ')).toMatch(/timeout after 500 ms/);
    const s = await shares(r.url, 300, { concurrency: 6, timeoutMs: 5000 });
    for (const b of [slow, hung]) r.timeline.mark(r.key(b), 'share', s.share(b.name));
    for (const b of [slow, hung]) r.timeline.expectOrder(r.key(b), [...drainSteps(), shareStep('no share through Envoy', (v) => v === 0)], start);
    expect(s.errors).toBe(0);
    expect(s.share(ok.name)).toBe(1);
    // A few more rounds with two probes hanging every time: the healthy host's probes keep coming between them.
    const more = r.timeline.mark(r.key(ok), 'three more rounds from now');
    const before = r.app.scheduler.jobStats(r.key(ok))!;
    await r.timeline.waitForOrder(
      undefined,
      [0, 1, 2].flatMap(() => [step('probe', { key: r.key(hung) }), step('probe', { key: r.key(ok), match: (p) => p.ok })]) as Step[],
      { after: more, timeoutMs: 30_000, what: 'three more rounds, the healthy probe passing after each hanging one' },
    );
    const okStats = r.app.scheduler.jobStats(r.key(ok))!;
    expect(okStats.runs).toBeGreaterThanOrEqual(before.runs + 3);
    expect(okStats.skipped).toBe(0);
    const hungRounds = r.timeline
      .of('probe', r.key(hung))
      .filter((p) => p.seq > start.seq)
      .map((p) => p.latencyMs);
    const slowRounds = r.timeline
      .of('probe', r.key(slow))
      .filter((p) => p.seq > start.seq && p.t > start.t + 100)
      .map((p) => p.latencyMs);
    const stalled = await stall.maxMs();
    stall.stop();
    console.log(
      `[scenario 3] healthy job lag max ${okStats.maxLagMs} ms over ${okStats.runs} runs; hanging probe rounds ${hungRounds.join(', ')} ms; slow ${slowRounds.join(', ')} ms; event loop stalled up to ${stalled.toFixed(0)} ms`,
    );
    // SCENARIOS.md 3's own figures: the scheduler's lag and each probe's time as the checker measured them, each
    // plus what the event loop itself stalled (not the scheduler's doing). A scheduler that let the hanging probes
    // hold up the healthy one lags by the 500 ms timeout per round; a checker that ignored its timeout waits 2 s.
    expect(okStats.maxLagMs).toBeLessThanOrEqual(interval * 0.1 + stalled);
    expect(hungRounds.length).toBeGreaterThanOrEqual(3);
    for (const ms of [...hungRounds, ...slowRounds]) expect(ms).toBeLessThanOrEqual(timeout * 1.1 + stalled);
  });

  it('4: a healed host goes half-open, passes probation and ramps up, never above its fair share', async () => {
    const r = await rig(3);
    const [bad] = r.backends as [Backend];
    const key = r.key(bad);
    const failing = r.timeline.mark(key, 'failing');
    bad.setHealthStatus(503);
    const [, , drainedEds] = await r.timeline.waitForOrder(key, drainSteps(), { after: failing, timeoutMs: 10_000, what: 'drained' });
    await waitFor(async () => ejected(await r.host(bad)), { timeoutMs: 15_000, intervalMs: 20, what: 'ejected' });
    const healed = r.timeline.mark(key, 'healed');
    bad.setHealthStatus(200);
    const windows: number[] = [];
    const weights: number[] = [];
    await waitFor(
      async () => {
        const h = await r.host(bad);
        if (h && !ejected(h)) {
          weights.push(h.weight);
          const s = await shares(r.url, 150, { concurrency: 5 });
          expect(s.errors).toBe(0);
          windows.push(s.share(bad.name));
          r.timeline.mark(key, 'share', s.share(bad.name));
        }
        return h?.weight === 100 && !ejected(h);
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the healed host back at full weight' },
    );
    // In order: half-open → a ramp of EDS versions, each ACKed by Envoy → closed at full weight → ACKed.
    const ramp = r.timeline.of('eds', key).filter((e) => e.seq > healed.seq);
    const rampWeights = ramp.map((e) => e.weight);
    const [, , , full, fullAck] = r.timeline.expectOrder(
      key,
      [
        step('decision', { match: (d) => d.circuit === 'half-open', what: 'half-open' }),
        step('eds', { match: (e) => e.health === 'HEALTHY' && e.weight < 100, what: 'an EDS version with it back at a reduced weight' }),
        step('ack', { what: "Envoy's ACK of it" }),
        step('eds', { match: (e) => e.health === 'HEALTHY' && e.weight === 100, what: 'an EDS version at full weight' }),
        step('ack', { what: "Envoy's ACK of full weight" }),
      ] as Step[],
      drainedEds,
    );
    const circuits = r.timeline
      .of('decision', key)
      .filter((d) => d.seq > failing.seq)
      .map((d) => d.circuit);
    console.log(
      `[scenario 4] full weight ACKed ${fullAck!.t - healed.t} ms after healing (EDS ${full!.kind === 'eds' ? full!.version : ''}); published weights ${rampWeights.join(' → ')}; Envoy's ${[...new Set(weights)].join(' → ')}; circuits ${circuits.join(' → ')}; shares ${windows.map((w) => w.toFixed(2)).join(' ')}`,
    );
    expect(circuits).toEqual(expect.arrayContaining(['open', 'half-open', 'closed']));
    expect(circuits.indexOf('half-open')).toBeLessThan(circuits.lastIndexOf('closed'));
    // Every published ramp step rises (never a jump from 0 to full weight), at least two steps between.
    expect(rampWeights).toEqual([...rampWeights].sort((a, b) => a - b));
    expect(new Set(rampWeights.filter((w) => w > 1 && w < 100)).size).toBeGreaterThanOrEqual(2);
    // And Envoy's weights, as its admin showed them, only rose.
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
    // Every share window through Envoy during the ramp stays under the fair share.
    for (const w of windows) expect(w).toBeLessThanOrEqual(1 / 3 + 0.06);
    const end = await shares(r.url, 600, { concurrency: 6 });
    r.timeline.mark(key, 'share', end.share(bad.name));
    r.timeline.expectOrder(key, [shareStep('at least 90% of its fair share', (v) => v >= 0.9 / 3 - 0.03)], fullAck);
  });

  it('passive: a host answering 5xx to real traffic while its checks pass is drained via Envoy load reports', async () => {
    const r = await rig(3);
    const [bad] = r.backends as [Backend];
    const key = r.key(bad);
    const start = r.timeline.mark(key, 'answering 500 to real traffic');
    bad.setStatus(500);
    const passiveDrain = [
      step('decision', { match: (d) => d.health === 'UNHEALTHY', what: 'the decision UNHEALTHY' }),
      step('eds', { match: (e) => e.health === 'UNHEALTHY', what: 'an EDS version with it UNHEALTHY' }),
      step('ack', { what: "Envoy's ACK of that EDS version" }),
    ] as Step[];
    await waitFor(
      async () => {
        await shares(r.url, 60, { concurrency: 4 });
        return r.timeline.findOrder(key, passiveDrain, start);
      },
      { timeoutMs: 20_000, intervalMs: 0, what: 'the erroring host drained from load reports' },
    );
    await waitFor(async () => ejected(await r.host(bad)), { timeoutMs: 15_000, what: 'ejected in Envoy' });
    // Its checks kept passing all along: the decision came from real traffic.
    const [decision] = r.timeline.expectOrder(key, passiveDrain, start);
    expect(r.timeline.of('probe', key).filter((p) => p.seq > start.seq && p.seq < decision!.seq && !p.ok)).toEqual([]);
    console.log(`[passive] decision ${decision!.t - start.t} ms after it started failing real traffic`);
    expect(r.app.engine.endpoint(key)!.decision.reasons[0]).toMatch(/^error rate \d+% \(\d+\/\d+\) >= 50% in real traffic/);
    const s = await shares(r.url, 300, { concurrency: 5 });
    r.timeline.mark(key, 'share', s.share(bad.name));
    r.timeline.expectOrder(key, [...passiveDrain, shareStep('its share through Envoy below 2%', (v) => v < 0.02)], start);
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
    const start = r.timeline.mark(r.key(a), 'three of four failing');
    for (const x of [a, b, c]) x.setHealthStatus(503);
    const verdict = await waitFor(
      () => {
        const v = r.app.engine.clusters().get('demo');
        return v && v.failing === 3 ? v : undefined;
      },
      { timeoutMs: 15_000, what: 'three failing endpoints' },
    );
    await waitFor(async () => (await r.envoy.clusterHosts('demo')).filter(ejected).length === 2, { timeoutMs: 15_000, what: 'two ejected in Envoy' });
    watching = false;
    await watcher;
    expect(verdict).toMatchObject({ total: 4, failing: 3, ejected: 2, guarded: 1, maxEjected: 2 });
    expect(verdict.reason).toMatch(/^3 of 4 endpoints failing; at most 50% \(2\) may be ejected; 127\.0\.0\.1:\d+ kept at /);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(2);
    const guarded = r.app.engine.endpoints('demo').find((e) => e.decision.guarded)!;
    // Every EDS version published from the failure on (not a sample of them) had four endpoints, at least two serving.
    const versions = r.timeline.published.filter((p) => p.cluster === 'demo' && p.seq >= start.seq);
    expect(versions.length).toBeGreaterThanOrEqual(2);
    for (const v of versions) {
      expect(v.endpoints.size).toBe(4);
      expect([...v.endpoints.values()].filter((e) => e.health !== 'UNHEALTHY' && e.health !== 'DRAINING').length).toBeGreaterThanOrEqual(2);
    }
    // Published HEALTHY at the minimum weight (or its normal weight once real traffic vouches for it), never DEGRADED spillover.
    expect(guarded.decision.health).toBe('HEALTHY');
    expect(guarded.decision.reasons.at(-1)).toMatch(/kept in rotation by the guard/);
    const s = await shares(r.url, 600, { concurrency: 6 });
    expect(s.errors).toBe(0);
    expect(s.share(d.name)).toBeGreaterThan(0.3);
    const ejectedHosts = r.backends.filter((x) => x !== d && x.port !== guarded.port);
    for (const x of ejectedHosts) {
      r.timeline.mark(r.key(x), 'share', s.share(x.name));
      r.timeline.expectOrder(r.key(x), [...drainSteps(), shareStep('its share through Envoy below 2%', (v) => v < 0.02)], start);
    }
    // The guarded one was failing too, yet its last published state serves (it may have been ejected for a moment
    // while fewer than three were failing, then put back by the guard).
    expect(r.timeline.of('eds', guarded.key).at(-1)?.health ?? 'HEALTHY').not.toBe('UNHEALTHY');
  });
});
