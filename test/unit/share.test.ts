import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignCluster } from '../../src/core/assignment.js';
import type { Decision } from '../../src/core/decide.js';
import { initialMemory } from '../../src/core/decide.js';
import { capFailingShare, predictShares, type EnvoyLbModel, type ShareHealth, type ShareInput } from '../../src/core/share.js';

const rr: EnvoyLbModel = { lbPolicy: 'ROUND_ROBIN', panicThresholdPercent: 0, overprovisioningFactor: 1.4 };

/** `n` endpoints per health, each at weight 100. */
function hosts(counts: Partial<Record<ShareHealth, number>>): ShareInput[] {
  const out: ShareInput[] = [];
  for (const [health, n] of Object.entries(counts) as Array<[ShareHealth, number]>)
    for (let i = 0; i < n; i++) out.push({ key: `${health}-${i}`, health, weight: 100 });
  return out;
}
const loadOf = (s: Map<string, number>, prefix: string): number =>
  Math.round(100 * [...s].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0));

describe("predictShares follows Envoy's documented arithmetic", () => {
  // The table of Envoy's "Degraded endpoints" page (P=0 healthy/degraded/unhealthy → traffic to healthy / degraded), over 100 hosts.
  it.each([
    [100, 0, 0, 100, 0],
    [71, 0, 29, 100, 0],
    [71, 29, 0, 99, 1],
    [25, 65, 10, 35, 65],
    [5, 0, 95, 100, 0],
  ])('%d%% healthy / %d%% degraded / %d%% unhealthy → %d%% / %d%%', (h, d, u, toHealthy, toDegraded) => {
    const s = predictShares(hosts({ HEALTHY: h, DEGRADED: d, UNHEALTHY: u }), rr);
    expect(loadOf(s, 'HEALTHY')).toBe(toHealthy);
    expect(loadOf(s, 'DEGRADED')).toBe(toDegraded);
    expect(loadOf(s, 'UNHEALTHY')).toBe(0);
  });

  it("the issue's case: one healthy host of four and a guard-kept host published DEGRADED gets half the requests; HEALTHY at weight 10 gets 9%", () => {
    const degraded = predictShares(
      [
        { key: 'ok', health: 'HEALTHY', weight: 100 },
        { key: 'kept', health: 'DEGRADED', weight: 10 },
        { key: 'x', health: 'UNHEALTHY', weight: 100 },
        { key: 'y', health: 'UNHEALTHY', weight: 100 },
      ],
      rr,
    );
    expect(degraded.get('kept')).toBeCloseTo(0.5, 5);
    const healthy = predictShares(
      [
        { key: 'ok', health: 'HEALTHY', weight: 100 },
        { key: 'kept', health: 'HEALTHY', weight: 10 },
        { key: 'x', health: 'UNHEALTHY', weight: 100 },
        { key: 'y', health: 'UNHEALTHY', weight: 100 },
      ],
      rr,
    );
    expect(healthy.get('kept')).toBeCloseTo(10 / 110, 5);
  });

  it('weights split a set (round robin, least request); RANDOM ignores them; DRAINING gets nothing; panic balances over all', () => {
    const eps: ShareInput[] = [
      { key: 'a', health: 'HEALTHY', weight: 300 },
      { key: 'b', health: 'UNKNOWN', weight: 100 },
      { key: 'c', health: 'DRAINING', weight: 100 },
    ];
    expect([...predictShares(eps, rr).values()]).toEqual([0.75, 0.25, 0]);
    expect([...predictShares(eps, { ...rr, lbPolicy: 'LEAST_REQUEST' }).values()]).toEqual([0.75, 0.25, 0]);
    expect([...predictShares(eps, { ...rr, lbPolicy: 'RANDOM' }).values()]).toEqual([0.5, 0.5, 0]);
    const panic = predictShares(hosts({ HEALTHY: 1, UNHEALTHY: 3 }), { ...rr, panicThresholdPercent: 50 });
    expect([...panic.values()]).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('laws: shares are in [0,1] and sum to 1 whenever something serves; equal endpoints get equal shares', () => {
    const health = fc.constantFrom<ShareHealth>('HEALTHY', 'DEGRADED', 'UNHEALTHY', 'DRAINING', 'UNKNOWN');
    fc.assert(
      fc.property(fc.array(fc.tuple(health, fc.integer({ min: 1, max: 1000 })), { minLength: 1, maxLength: 40 }), (spec) => {
        const eps = spec.map(([h, w], i) => ({ key: `e${i}`, health: h, weight: w }));
        const s = predictShares(eps, rr);
        const sum = [...s.values()].reduce((a, b) => a + b, 0);
        for (const v of s.values()) expect(v).toBeGreaterThanOrEqual(0);
        if (eps.some((e) => e.health !== 'UNHEALTHY' && e.health !== 'DRAINING')) expect(sum).toBeCloseTo(1, 9);
        const twins = predictShares([...eps, { key: 'x', health: 'HEALTHY', weight: 50 }, { key: 'y', health: 'HEALTHY', weight: 50 }], rr);
        expect(twins.get('x')).toBe(twins.get('y'));
      }),
    );
  });
});

describe('capFailingShare', () => {
  it('lowers the weights of failing endpoints until they get at most the cap', () => {
    const eps: ShareInput[] = [
      { key: 'ok', health: 'HEALTHY', weight: 100 },
      { key: 'f1', health: 'HEALTHY', weight: 50 },
      { key: 'f2', health: 'HEALTHY', weight: 50 },
    ];
    const fix = capFailingShare(eps, new Set(['f1', 'f2']), 0.1, rr)!;
    expect(fix.before).toBeCloseTo(0.5, 5);
    expect(fix.after).toBeLessThanOrEqual(0.1);
    expect(fix.weights.get('f1')).toBe(5);
    expect(capFailingShare(eps, new Set(['f1']), 0.5, rr)).toBeUndefined();
  });

  it('in assignCluster: guard-kept endpoints beyond the cap are corrected and the reason is in the verdict', () => {
    const d = (health: Decision['health'], score: number): Decision => ({
      score,
      status: health === 'UNHEALTHY' ? 'UNHEALTHY' : 'HEALTHY',
      circuit: health === 'UNHEALTHY' ? 'open' : 'closed',
      health,
      weight: health === 'UNHEALTHY' ? 100 : 100,
      targetWeight: 100,
      weightFraction: 1,
      reasons: [],
      facts: { pressure: [] },
      flapping: false,
      guarded: false,
      warming: false,
    });
    // 5 endpoints, 4 failing, at most 20% (1) ejected: 3 kept at weight 10 each → 30 / 130 = 23% of requests to failing hosts.
    const inputs = ['a', 'b', 'c', 'd', 'e'].map((k, i) => ({
      key: `c/${k}:1`,
      decision: d(i === 0 ? 'HEALTHY' : 'UNHEALTHY', 10 + i),
      memory: initialMemory(0),
      drained: false,
    }));
    const loose = assignCluster('c', inputs, { guard: { maxEjectedPercent: 20 }, minWeightPercent: 10 }, 0);
    const keptShare = (a: typeof loose): number =>
      [...a.endpoints.values()].filter((e) => e.decision.guarded).reduce((n, e) => n + (a.shares.get(e.key) ?? 0), 0);
    expect(keptShare(loose)).toBeCloseTo(30 / 130, 5);
    const capped = assignCluster('c', inputs, { guard: { maxEjectedPercent: 20, maxFailingSharePercent: 10 }, minWeightPercent: 10 }, 0);
    expect(keptShare(capped)).toBeLessThanOrEqual(0.1);
    expect(capped.correction).toMatch(/expected share of failing endpoints 23.1% > 10%: their weights lowered/);
    expect(capped.verdict.reason).toContain(capped.correction);
    expect(capped.verdict.guarded).toBe(3);
  });
});
