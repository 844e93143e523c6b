import { describe, expect, it } from 'vitest';
import { TYPE } from '../../src/xds/protos.js';
import type { Backend } from '../support/backends.js';
import { rig, type Rig } from '../support/rig.js';
import { shares, type Shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';

/** Scenario 14: weights follow the score, the guard keeps its promise, predicted shares match Envoy's. */
const INTERVAL_MS = 1000;
const TIMEOUT_MS = 800;
const THRESHOLD_MS = 300;
const N = 4;

const slowRig = (health: Record<string, unknown> = {}): Promise<Rig> => rig(N, health, INTERVAL_MS, TIMEOUT_MS, { latencyThresholdMs: THRESHOLD_MS });

/** Envoy's published weight per backend (from its admin /clusters). */
async function envoyWeights(r: Rig): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const b of r.backends) out.set(b.name, (await r.host(b))?.weight ?? -1);
  return out;
}

/** healthmesh's predicted share per backend (what /status and the status service show). */
function predicted(r: Rig): Map<string, number> {
  const byKey = new Map(r.app.service.endpoints({ cluster: 'demo' }).map((e) => [e.key, e.expectedShare ?? 0]));
  return new Map(r.backends.map((b) => [b.name, byKey.get(r.key(b)) ?? 0]));
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function compare(label: string, r: Rig, p: Map<string, number>, s: Shares): void {
  const rows = r.backends.map((b) => `${b.name} predicted ${pct(p.get(b.name) ?? 0)} measured ${pct(s.share(b.name))}`);
  console.log(`[scenario 14] ${label}: ${rows.join('; ')}; errors ${s.errors}/${s.total}`);
}

/** Every backend's measured share (failed requests counted against `failing`) within ±5 points of the prediction. */
function expectPredicted(r: Rig, p: Map<string, number>, s: Shares, failing?: Backend): void {
  for (const b of r.backends) {
    const measured = b === failing ? s.errors / s.total : s.share(b.name);
    expect(Math.abs(measured - (p.get(b.name) ?? 0)), `${b.name}: predicted ${pct(p.get(b.name) ?? 0)}, measured ${pct(measured)}`).toBeLessThanOrEqual(0.05);
  }
}

describe('scenario 14: traffic follows the score through a real Envoy', () => {
  it('a 400 ms host among fast peers gets at most half its fair share within 10 s and comes back when fast; predicted = measured ±5', async () => {
    const r = await slowRig();
    const [slow] = r.backends as [Backend];
    const fair = 1 / N;
    const t0 = Date.now();
    slow.setDelay(400);
    await waitFor(
      async () => {
        const w = await envoyWeights(r);
        return (w.get(slow.name) ?? 100) * 3 <= 100 && r.backends.slice(1).every((b) => w.get(b.name) === 100);
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the slow host weighted down in Envoy' },
    );
    const cutMs = Date.now() - t0;
    const d = r.app.engine.endpoint(r.key(slow))!.decision;
    console.log(
      `[scenario 14] slow host weighted down in Envoy after ${cutMs} ms: weight ${d.weight}/${d.targetWeight}, score ${d.score}: ${d.reasons.join('; ')}`,
    );
    expect(d.reasons.join('; ')).toMatch(/p99 4\d\d ms > 300 ms/);
    // DEGRADED first (at most 30%), then the score's weight level once its dwell has passed.
    expect(d.reasons.join('; ')).toMatch(/degraded: at most 30% of weight|weight \d+% of target for score/);
    const p = predicted(r);
    const s = await shares(r.url, 800, { concurrency: 8 });
    compare('one slow host', r, p, s);
    expect(s.errors).toBe(0);
    expect(s.share(slow.name)).toBeLessThanOrEqual(fair / 2);
    expectPredicted(r, p, s);

    slow.setDelay(0);
    const t1 = Date.now();
    await waitFor(async () => [...(await envoyWeights(r)).values()].every((w) => w === 100), {
      timeoutMs: 45_000,
      intervalMs: 200,
      what: 'the healed host back at full weight',
    });
    console.log(`[scenario 14] healed host back at full weight after ${Date.now() - t1} ms`);
    const back = await shares(r.url, 800, { concurrency: 8 });
    const pb = predicted(r);
    compare('healed', r, pb, back);
    expect(back.share(slow.name)).toBeGreaterThanOrEqual(fair - 0.05);
    expectPredicted(r, pb, back);

    // Steady state: nothing changes, nothing is pushed (scores wobble with probe latency; levels do not).
    let pushes = 0;
    const unsubscribe = r.app.controlPlane.cache.subscribe((next, prev) => {
      if (next.types[TYPE.endpoint].resources.get('demo') !== prev?.types[TYPE.endpoint].resources.get('demo')) pushes++;
    });
    const probesBefore = r.probes.length;
    await waitFor(() => r.probes.length >= probesBefore + 8 * N, { timeoutMs: 30_000, what: 'eight more probe rounds' });
    unsubscribe();
    console.log(`[scenario 14] steady state: ${pushes} EDS pushes over ${r.probes.length - probesBefore} probes`);
    expect(pushes).toBe(0);
  });

  it('four equally slow hosts keep equal shares', async () => {
    const r = await slowRig();
    for (const b of r.backends) b.setDelay(400);
    // Wait until every host's score saw the slowness (the threshold costs them all alike), then for equal weights.
    await waitFor(() => r.backends.every((b) => /p99 4\d\d ms/.test(r.app.engine.endpoint(r.key(b))!.decision.reasons.join(' '))), {
      timeoutMs: 15_000,
      what: 'every host judged slow',
    });
    await waitFor(async () => new Set((await envoyWeights(r)).values()).size === 1, { timeoutMs: 20_000, intervalMs: 200, what: 'equal weights in Envoy' });
    const weights = await envoyWeights(r);
    const p = predicted(r);
    const s = await shares(r.url, 600, { concurrency: 24, timeoutMs: 10_000 });
    compare(`four slow hosts (weights ${[...weights.values()].join('/')})`, r, p, s);
    expect(s.errors).toBe(0);
    for (const b of r.backends) expect(Math.abs(s.share(b.name) - 0.25)).toBeLessThanOrEqual(0.05);
    expectPredicted(r, p, s);
  });

  it('3 of 4 failing: the guard keeps one at the minimum, at most 12% of requests fail, Envoy holds all 4 hosts, the alert names the kept endpoint', async () => {
    // At most 50% (2 of 4) ejected: one failing host is kept.
    const r = await rig(N, { guard: { maxEjectedPercent: 50 } }, INTERVAL_MS, TIMEOUT_MS);
    const [ok, ...bad] = r.backends as [Backend, Backend, Backend, Backend];
    for (const b of bad) {
      b.setHealthStatus(503);
      b.setStatus(500);
    }
    await waitFor(() => r.app.engine.clusterSummary('demo')?.verdict.guarded === 1 && r.app.engine.clusterSummary('demo')?.verdict.ejected === 2, {
      timeoutMs: 15_000,
      what: 'two ejected, one kept by the guard',
    });
    const kept = bad.find((b) => r.app.engine.endpoint(r.key(b))!.decision.guarded)!;
    await waitFor(async () => (await r.host(kept))?.weight === 10, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the kept host at the minimum weight in Envoy',
    });
    const hosts = await r.envoy.clusterHosts('demo');
    expect(hosts).toHaveLength(4);
    expect((await r.host(kept))!.health).not.toContain('UNHEALTHY');
    const p = predicted(r);
    const s = await shares(r.url, 800, { concurrency: 8 });
    compare("3 of 4 failing (errors are the kept host's)", r, p, s);
    console.log(`[scenario 14] kept ${kept.name}: ${r.app.engine.endpoint(r.key(kept))!.decision.reasons.join('; ')}`);
    expect(s.errors / s.total).toBeLessThanOrEqual(0.12);
    expect(s.share(ok.name)).toBeGreaterThanOrEqual(0.85);
    expectPredicted(r, p, s, kept);
    expect(await r.envoy.clusterHosts('demo')).toHaveLength(4);
    const alert = await waitFor(() => r.app.alerts.list({ state: 'firing' }).find((a) => a.rule === 'cluster_capacity'), {
      timeoutMs: 5000,
      what: 'a cluster_capacity alert',
    });
    console.log(`[scenario 14] alert ${alert.level}: ${alert.message}`);
    expect(alert.level).toBe('critical');
    expect(alert.message).toContain(`127.0.0.1:${kept.port} kept at the minimum weight`);
    // Real traffic (LRS) confirms the failure: the kept host stays at the minimum.
    let sending = true;
    const load = (async () => {
      while (sending) await shares(r.url, 20, { concurrency: 4 });
    })();
    try {
      await waitFor(() => r.app.engine.endpoint(r.key(kept))!.decision.reasons.some((x) => /its real traffic fails too/.test(x)), {
        timeoutMs: 10_000,
        what: 'real traffic confirming the kept host fails',
      });
      expect((await r.host(kept))!.weight).toBe(10);
    } finally {
      sending = false;
      await load;
    }
  });
});

describe('the guard asks real traffic', () => {
  it('a kept host whose checks fail but whose real traffic succeeds (the checker is wrong) gets its normal weight, and the alert says so', async () => {
    const r = await rig(N, { guard: { maxEjectedPercent: 50 } }, INTERVAL_MS, TIMEOUT_MS);
    const bad = r.backends.slice(1) as Backend[];
    // Only /healthz fails (as if healthmesh were cut off from the hosts); real requests still succeed.
    for (const b of bad) b.setHealthStatus(503);
    await waitFor(() => r.app.engine.clusterSummary('demo')?.verdict.guarded === 1, { timeoutMs: 15_000, what: 'one failing host kept by the guard' });
    const kept = bad.find((b) => r.app.engine.endpoint(r.key(b))!.decision.guarded)!;
    let sending = true;
    const load = (async () => {
      while (sending) await shares(r.url, 20, { concurrency: 4 });
    })();
    try {
      await waitFor(async () => (await r.host(kept))?.weight === 100, {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: 'the vouched-for host back at its normal weight in Envoy',
      });
    } finally {
      sending = false;
      await load;
    }
    const d = r.app.engine.endpoint(r.key(kept))!.decision;
    console.log(`[scenario 14] vouched ${kept.name}: ${d.reasons.join('; ')}`);
    expect(d).toMatchObject({ health: 'HEALTHY', guarded: true, vouched: true, weight: 100 });
    const alert = await waitFor(
      () => r.app.alerts.list({ state: 'firing' }).find((a) => a.rule === 'cluster_capacity' && a.message.includes('checker may be wrong')),
      { timeoutMs: 5000, what: 'the alert saying the checker may be wrong' },
    );
    console.log(`[scenario 14] alert ${alert.level}: ${alert.message}`);
    expect(alert.message).toContain(`127.0.0.1:${kept.port} kept at its normal weight: its real traffic succeeds`);
  });
});

describe('Envoy outlier detection steered by healthmesh', () => {
  it('a backend answering 500 only to real traffic (its health check passes) is out of rotation within 1 s', async () => {
    const r = await rig(
      N,
      { guard: { maxEjectedPercent: 50 } },
      INTERVAL_MS,
      TIMEOUT_MS,
      {},
      { outlierDetection: { consecutive5xx: 3, baseEjectionTimeMs: 30_000 } },
    );
    const [bad] = r.backends as [Backend];
    let sending = true;
    const load = (async () => {
      while (sending) await shares(r.url, 20, { concurrency: 4 });
    })();
    const t0 = Date.now();
    bad.setStatus(500);
    await waitFor(async () => (await r.host(bad))?.health.includes('failed_outlier_check'), {
      timeoutMs: 5000,
      intervalMs: 20,
      what: 'Envoy ejecting the host on real 5xx',
    });
    const ejectMs = Date.now() - t0;
    sending = false;
    await load;
    console.log(
      `[outlier] ejected by Envoy after ${ejectMs} ms; healthmesh still says ${r.app.engine.endpoint(r.key(bad))!.decision.status} (its checks pass)`,
    );
    expect(ejectMs).toBeLessThanOrEqual(1000 + 500); // 1 s, with slack for Envoy's admin poll on a loaded machine
    const s = await shares(r.url, 400, { concurrency: 8 });
    expect(s.errors).toBe(0);
    expect(s.share(bad.name)).toBe(0);
  });
});
