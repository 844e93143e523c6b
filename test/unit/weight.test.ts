import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideEndpoint, initialMemory } from '../../src/core/decide.js';
import { emptySignals, type EndpointSignals, type ProbeOutcome } from '../../src/core/model.js';
import { relativeLatencyPenalty, scoreEndpoint } from '../../src/core/score.js';
import { levelFor, stepWeightLevel, weightCurve, type WeightingPolicy } from '../../src/core/weight.js';
import { testPolicy } from '../support/policy.js';

const policy = testPolicy();
const w: WeightingPolicy = policy.weighting;
const scoring = policy.scoring;

describe('weight curve (defaults: unhealthyBelow 30, fullAbove 90, curve 2.5, 4 levels, floor 10%)', () => {
  it.each([
    [100, 1],
    [90, 1],
    [85, 0.75],
    [80, 0.5],
    [71, 0.25],
    [60, 0.25],
    [45, 0.1],
    [30, 0.1],
    [0, 0.1],
  ])('score %d → level %d', (score, level) => {
    expect(levelFor(score, w, scoring)).toBe(level);
  });

  it('laws: within [floor, 1], monotone in the score, equal scores get equal weights', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (a, b) => {
        for (const s of [a, b]) {
          expect(weightCurve(s, w, scoring)).toBeGreaterThanOrEqual(w.floor);
          expect(levelFor(s, w, scoring)).toBeLessThanOrEqual(1);
        }
        if (a <= b) {
          expect(weightCurve(a, w, scoring)).toBeLessThanOrEqual(weightCurve(b, w, scoring));
          expect(levelFor(a, w, scoring)).toBeLessThanOrEqual(levelFor(b, w, scoring));
        }
      }),
    );
  });

  it('the curve is continuous: one score point never moves it by more than a few percent', () => {
    for (let s = 0; s < 100; s++) expect(Math.abs(weightCurve(s + 1, w, scoring) - weightCurve(s, w, scoring))).toBeLessThan(0.06);
  });
});

describe('hysteresis and dwell', () => {
  it('noise around a level boundary does not move the level', () => {
    let level = stepWeightLevel(undefined, 82, [], w, scoring, 0);
    expect(level.fraction).toBe(0.5);
    // The 0.5 / 0.75 boundary lies near 82.7: scores jittering 80..84 hold the level.
    for (let i = 1; i <= 200; i++) level = stepWeightLevel(level, 80 + (i % 5), [], w, scoring, i * 1000);
    expect(level.since).toBe(0);
  });

  it('a clear move waits for the dwell time, then takes effect with its reasons', () => {
    const first = stepWeightLevel(undefined, 100, [], w, scoring, 0);
    expect(stepWeightLevel(first, 60, ['p99 400 ms > 300 ms'], w, scoring, w.minDwellMs - 1)).toBe(first);
    const cut = stepWeightLevel(first, 60, ['p99 400 ms > 300 ms'], w, scoring, w.minDwellMs);
    expect(cut).toMatchObject({ fraction: 0.25, since: w.minDwellMs, score: 60, reasons: ['p99 400 ms > 300 ms'] });
  });

  it('falls at once to what the score is worth, climbs back one level per dwell (no 10% → 100% jump)', () => {
    const full = stepWeightLevel(undefined, 100, [], w, scoring, 0);
    const low = stepWeightLevel(full, 40, ["median latency 400 ms is 400.0x the cluster's 1 ms"], w, scoring, w.minDwellMs);
    expect(low.fraction).toBe(0.1);
    const climb: number[] = [];
    let level = low;
    for (let i = 2; i <= 7; i++) {
      level = stepWeightLevel(level, 100, [], w, scoring, i * w.minDwellMs);
      climb.push(level.fraction);
    }
    expect(climb).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
    // Within a dwell nothing moves, however good the score.
    expect(stepWeightLevel(low, 100, [], w, scoring, w.minDwellMs + w.minDwellMs - 1)).toBe(low);
  });

  it('law: the published weight never exceeds the target and equal histories give equal weights', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 1000 }), (scores, target) => {
        let a = stepWeightLevel(undefined, scores[0]!, [], w, scoring, 0);
        let b = stepWeightLevel(undefined, scores[0]!, [], w, scoring, 0);
        scores.forEach((s, i) => {
          a = stepWeightLevel(a, s, [], w, scoring, i * 3000);
          b = stepWeightLevel(b, s, [], w, scoring, i * 3000);
        });
        expect(a.fraction).toBe(b.fraction);
        expect(Math.round(target * a.fraction)).toBeLessThanOrEqual(target);
      }),
    );
  });
});

const probes = (latencyMs: number, n = 10): ProbeOutcome[] => Array.from({ length: n }, (_, i) => ({ at: i * 1000, ok: true, latencyMs, detail: 'HTTP 200' }));
const signals = (latencyMs: number, peerLatencyMs?: number): EndpointSignals => ({
  ...emptySignals(true),
  probes: probes(latencyMs),
  probeCount: 10,
  consecutiveOk: 10,
  peerLatencyMs,
});
const noThreshold = { ...policy, check: { ...policy.check, latencyThresholdMs: undefined } };

describe('adaptive latency', () => {
  it.each([
    // [own median, cluster median, penalty]
    [400, 1, 50],
    [12, 1, 0], // fast in absolute terms (below relativeLatencyMinMs)
    [90, 30, 0], // 3x exactly: the start of the curve
    [180, 30, 25],
    [400, 400, 0], // a cluster slow as a whole
    [400, undefined, 0], // no cluster context
  ])("median %d ms against the cluster's %s ms costs %d points", (own, peer, penalty) => {
    expect(relativeLatencyPenalty(own, peer, scoring)).toBeCloseTo(penalty, 5);
  });

  it('a host several times slower than its peers loses weight without latencyThresholdMs; equally slow hosts keep equal full weights', () => {
    const slow = decideEndpoint(initialMemory(0), signals(400, 1), noThreshold, 100, 10_000).decision;
    expect(slow.weight).toBe(10);
    expect(slow.reasons.join('; ')).toMatch(/median latency 400 ms is 400\.0x the cluster's 1 ms/);
    expect(slow.reasons.join('; ')).toMatch(/weight 10% of target for score 50/);
    const even = [1, 2, 3, 4].map(() => decideEndpoint(initialMemory(0), signals(400, 400), noThreshold, 100, 10_000).decision.weight);
    expect(new Set(even)).toEqual(new Set([100]));
  });

  it('one cold probe (e.g. the first after a restart) is no latency profile: judged relative to peers only from relativeLatencyMinSamples on', () => {
    const few = (n: number): EndpointSignals => ({ ...signals(29, 2), probes: probes(29, n), probeCount: n, consecutiveOk: n });
    expect(scoring.relativeLatencyMinSamples).toBe(3);
    for (const n of [1, 2]) {
      const d = decideEndpoint(initialMemory(0), few(n), noThreshold, 100, 10_000).decision;
      expect(d.weight).toBe(100);
      expect(d.reasons.join('; ')).not.toMatch(/median latency/);
    }
    const judged = decideEndpoint(initialMemory(0), few(3), noThreshold, 100, 10_000).decision;
    expect(judged.reasons.join('; ')).toMatch(/median latency 29 ms is 14\.5x the cluster's 2 ms/);
    expect(judged.weight).toBeLessThan(100);
  });

  it('with a 300 ms threshold, latency counts once (the worse of threshold and peers), and clean real traffic softens it', () => {
    const p = { ...policy, check: { ...policy.check, latencyThresholdMs: 300 } };
    const r = scoreEndpoint(signals(400, 1), p, 10_000);
    expect(r.score).toBe(50);
    expect(r.facts).toMatchObject({ latencyMs: 400, peerLatencyMs: 1 });
    expect(decideEndpoint(initialMemory(0), signals(400, 1), p, 100, 10_000).decision.weight).toBe(10);
    // The case: threshold only (no peers), real traffic clean → score 72 → a quarter of the weight.
    const withTraffic = { ...signals(400), traffic: [{ at: 9000, intervalMs: 1000, successes: 200, errors: 0 }] };
    const d = decideEndpoint(initialMemory(0), withTraffic, p, 100, 10_000).decision;
    expect(d.score).toBe(72);
    expect(d.weight).toBe(25);
  });
});

describe('every signal feeds the same function', () => {
  const fast = (): EndpointSignals => ({ ...emptySignals(true), probes: probes(2), probeCount: 10, consecutiveOk: 10 });
  it.each([
    ['clean', fast(), 100],
    ['real traffic 35% errors (LRS)', { ...fast(), traffic: [{ at: 9000, intervalMs: 1000, successes: 130, errors: 70 }] }, 50],
    ['cpu and memory pressure (agent)', { ...fast(), node: { at: 9500, nodeId: 'n1', cpuPercent: 97, memoryPercent: 95, diskPercent: 10 } }, 75],
  ] as Array<[string, EndpointSignals, number]>)('%s → weight %d', (_name, s, weight) => {
    const d = decideEndpoint(initialMemory(0), s, policy, 100, 10_000).decision;
    expect(d.weight).toBe(weight);
    if (weight < 100) expect(d.reasons.join('; ')).toMatch(/weight \d+% of target for score \d+/);
  });
});

describe('levels and the recovery ramp', () => {
  it('a circuit that closes starts from the current score: the slow-start ramp alone shapes the recovery', () => {
    let memory = initialMemory(0);
    const s = { ...emptySignals(true), probes: [] as ProbeOutcome[] };
    const weights: number[] = [];
    const step = (ok: boolean, at: number): void => {
      s.probes = [...s.probes, { at, ok, latencyMs: 2, detail: ok ? 'HTTP 200' : 'HTTP 503' }].slice(-10);
      s.probeCount += 1;
      s.consecutiveOk = ok ? s.consecutiveOk + 1 : 0;
      s.consecutiveFail = ok ? 0 : s.consecutiveFail + 1;
      const r = decideEndpoint(memory, { ...s }, policy, 100, at);
      memory = r.memory;
      if (r.decision.circuit === 'closed') weights.push(r.decision.weight);
    };
    let t = 0;
    for (let i = 0; i < 5; i++) step(true, (t += 1000));
    for (let i = 0; i < 3; i++) step(false, (t += 1000));
    expect(memory.circuit.state).toBe('open');
    weights.length = 0;
    for (let i = 0; i < 20; i++) step(true, (t += 1000));
    // 10 s ramp in 5 steps from 10%: never held down by the level the failures earned.
    expect(weights[0]).toBe(10);
    expect(weights.at(-1)).toBe(100);
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
    expect(new Set(weights).size).toBeGreaterThanOrEqual(4);
  });
});
