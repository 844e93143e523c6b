import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignCluster, resumeMemory, type AssignmentInput, type EndpointAssignment } from '../../src/core/assignment.js';
import { decideEndpoint, initialMemory, type Decision, type EndpointMemory } from '../../src/core/decide.js';
import { emptySignals, type EndpointSignals, type ProbeOutcome } from '../../src/core/model.js';
import { testPolicy } from '../support/policy.js';

const policy = testPolicy();
const assignPolicy = { guard: { maxEjectedPercent: 50 }, minWeightPercent: 10 };

/** A signal book for one endpoint, advanced one probe at a time (what the engine's SignalBook does). */
function book(): { signals: EndpointSignals; probe(ok: boolean, at: number): EndpointSignals } {
  const s = { ...emptySignals(true), probes: [] as ProbeOutcome[] };
  return {
    get signals() {
      return { ...s };
    },
    probe(ok, at) {
      s.probes = [...s.probes, { at, ok, latencyMs: 3, detail: ok ? 'HTTP 200' : 'HTTP 503' }].slice(-policy.scoring.probeWindow);
      s.probeCount += 1;
      s.consecutiveOk = ok ? s.consecutiveOk + 1 : 0;
      s.consecutiveFail = ok ? 0 : s.consecutiveFail + 1;
      return { ...s };
    },
  };
}

function drive(
  memory: EndpointMemory,
  b: ReturnType<typeof book>,
  history: readonly boolean[],
  startAt: number,
): { memory: EndpointMemory; decisions: Decision[] } {
  const decisions: Decision[] = [];
  history.forEach((ok, i) => {
    const at = startAt + i * 1000;
    const r = decideEndpoint(memory, b.probe(ok, at), policy, 100, at);
    memory = r.memory;
    decisions.push(r.decision);
  });
  return { memory, decisions };
}

const assignOne = (key: string, memory: EndpointMemory, decision: Decision, at: number): EndpointAssignment =>
  assignCluster('c', [{ key, decision, memory, drained: false }], assignPolicy, at).endpoints.get(key)!;

/** What the store does to an assignment: JSON out, JSON in. */
const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('assignment persistence', () => {
  it('a restored assignment equals the saved one (round trip through the stored form)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), fc.boolean(), (history, drained) => {
        const b = book();
        const { memory, decisions } = drive(initialMemory(0), b, history, 0);
        const at = history.length * 1000;
        const a = assignCluster('c', [{ key: 'c/10.0.0.1:80', decision: decisions.at(-1)!, memory, drained }], assignPolicy, at).endpoints.get(
          'c/10.0.0.1:80',
        )!;
        expect(roundTrip(a)).toStrictEqual(JSON.parse(JSON.stringify(a)));
        const restored = roundTrip(a);
        expect(restored.memory.circuit).toStrictEqual(roundTrip(memory.circuit));
        expect(restored.decision.health).toBe(a.decision.health);
        expect(restored.decision.weight).toBe(a.decision.weight);
        expect(restored.drained).toBe(drained);
      }),
    );
  });

  it('the core continues from a restored memory exactly as if uninterrupted (same later signals, same decisions)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), (before, after) => {
        const b = book();
        const first = drive(initialMemory(0), b, before, 0);
        const at = before.length * 1000;
        const saved = roundTrip(assignOne('k', first.memory, first.decisions.at(-1)!, at));
        // Uninterrupted and restored runs see the same later signals.
        const b1 = book();
        const b2 = book();
        before.forEach((ok, i) => {
          b1.probe(ok, i * 1000);
          b2.probe(ok, i * 1000);
        });
        const straight = drive(first.memory, b1, after, at);
        const resumed = drive(saved.memory, b2, after, at);
        expect(resumed.decisions.map((d) => [d.health, d.weight, d.status, d.circuit])).toStrictEqual(
          straight.decisions.map((d) => [d.health, d.weight, d.status, d.circuit]),
        );
      }),
    );
  });

  it('after a restart with no new signal, the decision published before the kill is published again', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 120_000 }), (history, downtime) => {
        const first = drive(initialMemory(0), book(), history, 0);
        // Saved when it was decided (the engine writes each change ahead of the snapshot publishing it).
        const at = (history.length - 1) * 1000;
        const saved = roundTrip(assignOne('k', first.memory, first.decisions.at(-1)!, at));
        const resumedAt = at + downtime;
        const memory = resumeMemory(saved.memory, downtime);
        // A restarted process has no signals yet.
        const { decision } = decideEndpoint(memory, emptySignals(true), policy, 100, resumedAt);
        // The endpoint's own decision (the guard is applied over it again after the restart).
        const before = first.decisions.at(-1)!;
        if (before.health === 'UNHEALTHY') {
          // An ejected endpoint stays ejected: probation needs a passing check of the new process.
          expect(decision.health).toBe('UNHEALTHY');
        } else {
          expect(decision.health).toBe(before.health);
          // The ramp resumes where it was saved: never above the pre-kill weight.
          expect(decision.weight).toBeLessThanOrEqual(before.weight);
          if (saved.memory.circuit.state === 'closed') expect(decision.weight).toBe(before.weight);
        }
      }),
    );
  });

  it('the ramp continues on its own clock after the restart: it ends a downtime later', () => {
    const b = book();
    // Trip, wait out the open period, pass probation: the circuit closes at 'closedAt' and the ramp begins.
    let { memory } = drive(initialMemory(0), b, [true, false, false, false, true, true, true, true], 0);
    expect(memory.circuit.state).toBe('closed');
    const closedAt = memory.circuit.closedAt!;
    const savedAt = closedAt + 4000;
    memory = decideEndpoint(memory, b.signals, policy, 100, savedAt).memory;
    const before = decideEndpoint(memory, b.signals, policy, 100, savedAt).decision.weight;
    const resumed = resumeMemory(roundTrip(memory), 30_000);
    const after = decideEndpoint(resumed, emptySignals(true), policy, 100, savedAt + 30_000).decision;
    expect(after.weight).toBe(before);
    const end = decideEndpoint(resumed, emptySignals(true), policy, 100, savedAt + 30_000 + policy.recovery.windowMs).decision;
    expect(end.weight).toBe(100);
  });
});

describe('warming (new endpoints)', () => {
  it('is not served until its first check passes', () => {
    const b = book();
    let memory = initialMemory(0, { warming: true });
    let d = decideEndpoint(memory, b.signals, policy, 100, 0);
    expect(d.decision).toMatchObject({ health: 'UNHEALTHY', warming: true, weightFraction: 0 });
    expect(d.decision.reasons[0]).toMatch(/awaiting its first health check/);
    d = decideEndpoint(memory, b.probe(false, 1000), policy, 100, 1000);
    expect(d.decision).toMatchObject({ health: 'UNHEALTHY', warming: true });
    expect(d.decision.reasons[0]).toMatch(/HTTP 503/);
    memory = d.memory;
    d = decideEndpoint(memory, b.probe(true, 2000), policy, 100, 2000);
    expect(d.decision).toMatchObject({ health: 'HEALTHY', warming: false, weight: 100 });
    expect(d.memory.warming).toBe(false);
  });

  it('trips its circuit after unhealthyThreshold failures and stops warming', () => {
    const r = drive(initialMemory(0, { warming: true }), book(), [false, false, false], 0);
    expect(r.decisions.at(-1)).toMatchObject({ health: 'UNHEALTHY', circuit: 'open', warming: false });
  });

  it('is neither counted nor kept by the guard', () => {
    const ok = decideEndpoint(initialMemory(0), book().probe(true, 0), policy, 100, 0);
    const warm = decideEndpoint(initialMemory(0, { warming: true }), emptySignals(true), policy, 100, 0);
    const inputs: AssignmentInput[] = [
      { key: 'a', ...ok, drained: false },
      { key: 'b', ...warm, drained: false },
      { key: 'c', ...warm, drained: false },
    ];
    const a = assignCluster('c', inputs, assignPolicy, 0);
    expect(a.verdict).toMatchObject({ total: 1, failing: 0, guarded: 0 });
    expect(a.endpoints.get('b')!.decision.health).toBe('UNHEALTHY');
  });
});

describe('assignCluster overlays', () => {
  const healthy = decideEndpoint(initialMemory(0), book().probe(true, 0), policy, 100, 0);
  const failing = drive(initialMemory(0), book(), [false, false, false], 0);
  const down = { decision: failing.decisions.at(-1)!, memory: failing.memory };

  it('precedence: drained > config health > guard > decision', () => {
    const a = assignCluster(
      'c',
      [
        { key: 'drained', ...healthy, drained: true, override: 'HEALTHY' },
        { key: 'override', ...down, drained: false, override: 'DEGRADED' },
        { key: 'forcedDown', ...healthy, drained: false, override: 'UNHEALTHY' },
        { key: 'guarded1', ...down, drained: false },
        { key: 'guarded2', ...down, drained: false },
      ],
      assignPolicy,
      0,
    );
    expect(a.endpoints.get('drained')!.decision.health).toBe('DRAINING');
    expect(a.endpoints.get('override')!.decision).toMatchObject({ health: 'DEGRADED', weight: 100 });
    expect(a.endpoints.get('forcedDown')!.decision.health).toBe('UNHEALTHY');
    // Only the two judged endpoints count for the guard: both fail, at most 50% (1) may be ejected.
    expect(a.verdict).toMatchObject({ total: 2, failing: 2, ejected: 1, guarded: 1 });
  });

  it('keeps changedAt while the published health and weight stay the same', () => {
    const first = assignCluster('c', [{ key: 'k', ...healthy, drained: false }], assignPolicy, 10);
    const same = assignCluster('c', [{ key: 'k', ...healthy, drained: false }], assignPolicy, 20, first);
    expect(same.endpoints.get('k')!.changedAt).toBe(10);
    const drained = assignCluster('c', [{ key: 'k', ...healthy, drained: true }], assignPolicy, 30, same);
    expect(drained.endpoints.get('k')!.changedAt).toBe(30);
  });
});
