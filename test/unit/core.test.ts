import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { closedCircuit, openDuration, stepCircuit, type Circuit, type CircuitInput } from '../../src/core/circuit.js';
import { decideEndpoint, initialMemory, type Decision, type EndpointMemory } from '../../src/core/decide.js';
import { guardCluster } from '../../src/core/guard.js';
import { emptySignals, type EndpointSignals, type ProbeOutcome } from '../../src/core/model.js';
import type { EndpointPolicy } from '../../src/core/policy.js';
import { rampFraction, weightFor } from '../../src/core/recovery.js';
import { scoreEndpoint } from '../../src/core/score.js';
import { endpointPolicy } from '../../src/health/policy.js';

const config = validateConfig({
  health: {
    circuit: { baseOpenMs: 1000, maxOpenMs: 8000, flapWindowMs: 60_000, flapThreshold: 3, resetAfterMs: 30_000 },
    recovery: { windowMs: 10_000, steps: 5, minWeightPercent: 10 },
  },
  clusters: [{ name: 'c', healthCheck: { intervalMs: 1000, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 3, latencyThresholdMs: 500 } }],
});
const policy: EndpointPolicy = endpointPolicy(config, config.clusters[0]!.healthCheck);

/** Signals as a probe history produces them (oldest first). */
function signalsFrom(history: Array<boolean | Partial<ProbeOutcome>>, at = 0, extra: Partial<EndpointSignals> = {}): EndpointSignals {
  const s = { ...emptySignals(true), probes: [] as ProbeOutcome[] };
  history.forEach((h, i) => {
    const p: ProbeOutcome =
      typeof h === 'boolean'
        ? { at: at + i * 1000, ok: h, latencyMs: 5, detail: h ? 'HTTP 200' : 'HTTP 503' }
        : { at: at + i * 1000, ok: true, latencyMs: 5, detail: 'HTTP 200', ...h };
    s.probes.push(p);
    s.probeCount += 1;
    if (p.ok) {
      s.consecutiveOk += 1;
      s.consecutiveFail = 0;
    } else {
      s.consecutiveFail += 1;
      s.consecutiveOk = 0;
    }
  });
  s.probes = s.probes.slice(-policy.scoring.probeWindow);
  return { ...s, ...extra };
}

describe('scoreEndpoint', () => {
  it.each([
    ['all passing', [true, true, true], 100, false, []],
    ['three consecutive failures', [true, false, false, false], 29, true, ['3 consecutive failed checks (last: HTTP 503)']],
    ['one failure in four', [true, true, false, true], 90, false, ['1 of the last 4 checks failed (last failure: HTTP 503)']],
    ['slow but passing', [{ latencyMs: 1800 }, { latencyMs: 1800 }], 0, false, ['p99 1.8 s > 500 ms']],
  ] as const)('%s', (_name, history, maxScore, hardFail, reasons) => {
    const r = scoreEndpoint(signalsFrom([...history] as Array<boolean | Partial<ProbeOutcome>>), policy, 10_000);
    expect(r.score).toBeLessThanOrEqual(maxScore === 0 ? 69 : maxScore);
    if (maxScore === 100) expect(r.score).toBe(100);
    expect(r.hardFail).toBe(hardFail);
    expect(r.reasons).toEqual(reasons);
  });

  it('passive error rate from load reports costs score, with the numbers in the reason', () => {
    const s = signalsFrom([true, true], 0, { traffic: [{ at: 1, intervalMs: 1000, successes: 80, errors: 20 }] });
    const r = scoreEndpoint(s, policy, 2000);
    expect(r.score).toBeLessThan(100);
    expect(r.reasons).toEqual(['error rate 20% (20/100) > 5%']);
  });

  it('a majority of errors in real traffic fails the endpoint even when its checks pass', () => {
    const s = signalsFrom([true, true, true], 0, { traffic: [{ at: 1, intervalMs: 1000, successes: 10, errors: 90 }] });
    const r = scoreEndpoint(s, policy, 2000);
    expect(r).toMatchObject({ hardFail: true, externalFail: false });
    expect(r.reasons).toEqual(['error rate 90% (90/100) >= 50% in real traffic']);
    const quiet = scoreEndpoint(signalsFrom([true], 0, { traffic: [{ at: 1, intervalMs: 1000, successes: 0, errors: 5 }] }), policy, 2000);
    expect(quiet.hardFail).toBe(false); // too few requests to judge
  });

  it('node pressure and lost heartbeats, and dependencies', () => {
    const node = { at: 0, nodeId: 'n1', cpuPercent: 10, memoryPercent: 93, diskPercent: 10 };
    expect(scoreEndpoint(signalsFrom([true, true], 0, { node }), policy, 1000).reasons).toEqual(['memory 93% > 90%']);
    const late = scoreEndpoint(signalsFrom([true, true], 0, { node }), policy, 17_000);
    expect(late.reasons).toEqual(['no heartbeat from node n1 for 17 s']);
    expect(late.hardFail).toBe(false);
    const lost = scoreEndpoint(signalsFrom([true, true], 0, { node }), policy, 50_000);
    expect(lost.hardFail).toBe(true);
    expect(lost.externalFail).toBe(true);
    const dep = scoreEndpoint(signalsFrom([true], 0, { failingDependencies: [{ name: 'db', detail: 'connection refused' }] }), policy, 1000);
    expect(dep).toMatchObject({ hardFail: true, externalFail: true, reasons: ['dependency db failing: connection refused'] });
  });
});

describe('circuit', () => {
  const input = (over: Partial<CircuitInput>): CircuitInput => ({
    now: 0,
    failing: false,
    externalFail: false,
    recovered: true,
    actively: true,
    probeCount: 0,
    consecutiveOk: 0,
    ...over,
  });

  it('walks closed → open → half-open → closed, with backoff on a failed probation', () => {
    let c: Circuit = closedCircuit(0);
    c = stepCircuit(c, input({ now: 100, failing: true, probeCount: 3 }), policy.circuit);
    expect(c).toMatchObject({ state: 'open', trips: 1, openUntil: 1100 });
    c = stepCircuit(c, input({ now: 500, probeCount: 4, consecutiveOk: 1 }), policy.circuit);
    expect(c.state).toBe('open'); // not before openUntil
    c = stepCircuit(c, input({ now: 1200, probeCount: 5, consecutiveOk: 2 }), policy.circuit);
    expect(c).toMatchObject({ state: 'half-open', probationFromProbe: 5 });
    c = stepCircuit(c, input({ now: 1300, probeCount: 6, consecutiveOk: 0 }), policy.circuit);
    expect(c).toMatchObject({ state: 'open', trips: 2, openUntil: 1300 + 2000 });
    c = stepCircuit(c, input({ now: 3400, probeCount: 7, consecutiveOk: 1 }), policy.circuit);
    expect(c.state).toBe('half-open');
    c = stepCircuit(c, input({ now: 3500, probeCount: 8, consecutiveOk: 2 }), policy.circuit);
    expect(c.state).toBe('half-open'); // one probe since probation began
    c = stepCircuit(c, input({ now: 3600, probeCount: 9, consecutiveOk: 3 }), policy.circuit);
    expect(c).toMatchObject({ state: 'closed', closedAt: 3600 });
  });

  it('backs off exponentially up to the cap, and holds a flapping endpoint at the cap', () => {
    expect([1, 2, 3, 4, 5].map((t) => openDuration(t, false, policy.circuit))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(openDuration(1, true, policy.circuit)).toBe(8000);
  });

  it('forgives trips after resetAfterMs closed', () => {
    let c: Circuit = { ...closedCircuit(0), trips: 3, tripTimes: [0] };
    c = stepCircuit(c, input({ now: 29_000 }), policy.circuit);
    expect(c.trips).toBe(3);
    c = stepCircuit(c, input({ now: 31_000 }), policy.circuit);
    expect(c.trips).toBe(0);
  });
});

describe('recovery ramp', () => {
  it.each([
    [undefined, 1],
    [0, 0.1],
    [1000, 0.1],
    [2000, 0.2],
    [5000, 0.4],
    [9999, 0.8],
    [10_000, 1],
  ])('after %s ms the fraction is %s', (t, f) => {
    expect(rampFraction(t, policy.recovery)).toBeCloseTo(f);
  });

  it('law: monotone in time, within [min, 1], and the weight never exceeds the target', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100_000 }),
        (a, b, aggression, steps, minPct, target) => {
          const p = { windowMs: 10_000, aggression, steps, minWeightPercent: minPct };
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const fl = rampFraction(lo, p);
          const fh = rampFraction(hi, p);
          expect(fl).toBeLessThanOrEqual(fh + 1e-12);
          expect(fl).toBeGreaterThanOrEqual(Math.min(1, minPct / 100) - 1e-12);
          expect(fh).toBeLessThanOrEqual(1);
          expect(weightFor(target, fh)).toBeLessThanOrEqual(target);
          expect(weightFor(target, fh)).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });
});

/** Drive decideEndpoint through a probe history, one probe per second. */
function run(history: boolean[], opts: { startAt?: number; memory?: EndpointMemory } = {}): { decisions: Decision[]; memory: EndpointMemory } {
  let memory = opts.memory ?? initialMemory(0);
  const s = { ...emptySignals(true), probes: [] as ProbeOutcome[] };
  const decisions: Decision[] = [];
  history.forEach((ok, i) => {
    const at = (opts.startAt ?? 0) + i * 1000;
    s.probes = [...s.probes, { at, ok, latencyMs: 3, detail: ok ? 'HTTP 200' : 'HTTP 503' }].slice(-10);
    s.probeCount += 1;
    s.consecutiveOk = ok ? s.consecutiveOk + 1 : 0;
    s.consecutiveFail = ok ? 0 : s.consecutiveFail + 1;
    const r = decideEndpoint(memory, { ...s }, policy, 100, at);
    memory = r.memory;
    decisions.push(r.decision);
  });
  return { decisions, memory };
}

describe('decideEndpoint', () => {
  it('drains after unhealthyThreshold failures, then recovers through probation and a ramp', () => {
    const { decisions } = run([true, true, false, false, false, false, true, true, true, true, true, true, true, true, true, true, true, true, true, true]);
    expect(decisions.slice(0, 4).every((d) => d.health === 'HEALTHY')).toBe(true);
    expect(decisions[4]).toMatchObject({ health: 'UNHEALTHY', circuit: 'open' });
    const halfOpen = decisions.findIndex((d) => d.circuit === 'half-open');
    expect(halfOpen).toBeGreaterThan(4);
    expect(decisions[halfOpen]).toMatchObject({ health: 'HEALTHY', weight: 10 });
    const closed = decisions.findIndex((d, i) => i > halfOpen && d.circuit === 'closed');
    const ramp = decisions.slice(closed).map((d) => d.weight);
    expect(ramp[0]).toBeLessThan(100);
    expect(ramp).toEqual([...ramp].sort((a, b) => a - b));
    expect(ramp.every((w) => w <= 100)).toBe(true);
  });

  it('a host failing every other check is degraded once, not toggled', () => {
    const history = Array.from({ length: 120 }, (_, i) => i % 2 === 0);
    const { decisions } = run(history);
    let changes = 0;
    for (let i = 1; i < decisions.length; i++) {
      if (decisions[i]!.health !== decisions[i - 1]!.health || decisions[i]!.weight !== decisions[i - 1]!.weight) changes++;
    }
    expect(changes).toBeLessThanOrEqual(3);
    expect(decisions.at(-1)).toMatchObject({ status: 'DEGRADED', circuit: 'closed' });
  });

  it('law: an open circuit never gets traffic weight, and weight never exceeds target', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 200 }), (history) => {
        const { decisions } = run(history);
        for (const d of decisions) {
          expect(d.weight).toBeLessThanOrEqual(d.targetWeight);
          if (d.circuit === 'open') expect(d.health).toBe('UNHEALTHY');
          if (d.health !== 'UNHEALTHY') expect(d.weightFraction).toBeGreaterThan(0);
        }
      }),
    );
  });
});

describe('guardCluster', () => {
  const d = (health: Decision['health'], score: number): Decision => ({
    score,
    status: health === 'UNHEALTHY' ? 'UNHEALTHY' : 'HEALTHY',
    circuit: health === 'UNHEALTHY' ? 'open' : 'closed',
    health,
    weight: 100,
    targetWeight: 100,
    weightFraction: 1,
    reasons: [],
    facts: { pressure: [] },
    flapping: false,
    guarded: false,
    warming: false,
  });

  it('keeps the best-scoring failing endpoints in rotation beyond the cap', () => {
    const input = new Map([
      ['a', d('HEALTHY', 100)],
      ['b', d('UNHEALTHY', 5)],
      ['c', d('UNHEALTHY', 20)],
      ['d', d('UNHEALTHY', 0)],
    ]);
    const { decisions, verdict } = guardCluster(input, { maxEjectedPercent: 50 }, 10);
    expect(verdict).toMatchObject({ total: 4, failing: 3, ejected: 2, guarded: 1, maxEjected: 2, allFailing: false });
    // HEALTHY at the minimum weight (not DEGRADED: Envoy's spillover would hand it about half the traffic).
    expect(decisions.get('c')).toMatchObject({ health: 'HEALTHY', guarded: true, weight: 10 });
    expect(decisions.get('c')!.reasons[0]).toMatch(
      /kept in rotation by the guard \(3 of 4 endpoints failing.*\): kept at the minimum weight: no real traffic to judge by/,
    );
    expect(verdict.reason).toMatch(/c kept at the minimum weight/);
    expect(decisions.get('b')!.health).toBe('UNHEALTHY');
  });

  it.each([
    // [real traffic error rate, published weight, why]
    [0.01, 100, /kept at its normal weight: its real traffic succeeds, the health checker may be wrong/],
    [0.4, 10, /kept at the minimum weight: its real traffic fails too/],
    [undefined, 10, /kept at the minimum weight: no real traffic to judge by/],
  ])('asks real traffic: error rate %s → weight %d', (rate, weight, why) => {
    const kept = {
      ...d('UNHEALTHY', 20),
      reasons: ['3 consecutive failed checks (last: timeout after 500 ms)'],
      facts: { pressure: [], trafficErrorRate: rate, trafficRequests: rate === undefined ? undefined : 300 },
    };
    const input = new Map([
      ['c/a:1', d('HEALTHY', 100)],
      ['c/b:1', d('UNHEALTHY', 5)],
      ['c/c:1', kept],
      ['c/d:1', d('UNHEALTHY', 0)],
    ]);
    const { decisions, verdict } = guardCluster(input, { maxEjectedPercent: 50, realTrafficOkErrorRate: 0.05 }, 10);
    expect(decisions.get('c/c:1')).toMatchObject({ health: 'HEALTHY', guarded: true, weight });
    // The cluster alert (built from the verdict's reason) names the kept endpoint and why.
    expect(verdict.reason).toMatch(why);
    expect(verdict.reason).toMatch(/c:1 kept .*\(3 consecutive failed checks/);
  });

  it('law: never more than the cap ejected, never an empty serving set', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 100 })), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 0, max: 100 }),
        (eps, pct) => {
          const input = new Map(eps.map(([fail, score], i) => [`e${i}`, d(fail ? 'UNHEALTHY' : 'HEALTHY', score)]));
          const { decisions, verdict } = guardCluster(input, { maxEjectedPercent: pct }, 10);
          const ejected = [...decisions.values()].filter((x) => x.health === 'UNHEALTHY').length;
          expect(ejected).toBe(verdict.ejected);
          expect(ejected).toBeLessThanOrEqual(Math.floor((eps.length * pct) / 100 + 1e-9));
          if (pct < 100) expect([...decisions.values()].some((x) => x.health !== 'UNHEALTHY')).toBe(true);
        },
      ),
    );
  });
});
