import type { CircuitState } from './model.js';
import type { CircuitPolicy } from './policy.js';

/** A breaker per endpoint: closed → open → half-open (probation) → closed. Time is passed in. */
export interface Circuit {
  readonly state: CircuitState;
  /** When the current state began. */
  readonly since: number;
  /** Open: not before this time may probation start. */
  readonly openUntil: number;
  /** Consecutive trips not yet forgiven (drives the backoff). */
  readonly trips: number;
  /** Times of recent trips, for flap detection. */
  readonly tripTimes: readonly number[];
  /** Probe sequence number at which probation began. */
  readonly probationFromProbe: number;
  /** When the last probation began: after a trip, only probes since then count towards the score. */
  readonly probationStartedAt?: number | undefined;
  /** When the circuit last closed after a trip (start of the slow-start ramp); undefined: never tripped. */
  readonly closedAt?: number | undefined;
}

export interface CircuitInput {
  now: number;
  /** The evaluation (signals since probation began, in half-open) says the endpoint fails: hard failure or score below the unhealthy bar. */
  failing: boolean;
  /** A failure no probe can clear (dead dependency, lost node): blocks and ends probation. */
  externalFail: boolean;
  /** Without an active check: the evaluation is good enough to serve again. */
  recovered: boolean;
  /** Whether the endpoint has an active check (probation counts probes only then). */
  actively: boolean;
  probeCount: number;
  consecutiveOk: number;
}

export const closedCircuit = (now: number): Circuit => ({ state: 'closed', since: now, openUntil: 0, trips: 0, tripTimes: [], probationFromProbe: 0 });

export function isFlapping(c: Circuit, policy: CircuitPolicy, now: number): boolean {
  return c.tripTimes.filter((t) => now - t <= policy.flapWindowMs).length >= policy.flapThreshold;
}

/** How long the circuit stays open for its current trip: exponential backoff, held at the cap while flapping. */
export function openDuration(trips: number, flapping: boolean, policy: CircuitPolicy): number {
  if (flapping) return policy.maxOpenMs;
  return Math.min(policy.maxOpenMs, policy.baseOpenMs * policy.backoffMultiplier ** Math.max(0, trips - 1));
}

function trip(c: Circuit, input: CircuitInput, policy: CircuitPolicy): Circuit {
  const now = input.now;
  const tripTimes = [...c.tripTimes.filter((t) => now - t <= policy.flapWindowMs), now];
  const trips = c.trips + 1;
  const next: Circuit = { ...c, state: 'open', since: now, trips, tripTimes, openUntil: 0, probationFromProbe: 0 };
  return { ...next, openUntil: now + openDuration(trips, isFlapping(next, policy, now), policy) };
}

/** Advance the breaker by one evaluation. Pure and total. */
export function stepCircuit(c: Circuit, input: CircuitInput, policy: CircuitPolicy): Circuit {
  const { now } = input;
  switch (c.state) {
    case 'closed': {
      if (input.failing) return trip(c, input, policy);
      const lastTrip = c.tripTimes[c.tripTimes.length - 1];
      if (c.trips > 0 && lastTrip !== undefined && now - lastTrip >= policy.resetAfterMs) return { ...c, trips: 0 };
      return c;
    }
    case 'open': {
      if (now < c.openUntil || input.externalFail) return c;
      // After the open period a probe must pass; without active checks, a recovered evaluation is enough.
      if (input.actively ? input.consecutiveOk < 1 : !input.recovered) return c;
      return { ...c, state: 'half-open', since: now, probationFromProbe: input.probeCount, probationStartedAt: now };
    }
    case 'half-open': {
      const failedProbe = input.actively && input.consecutiveOk === 0 && input.probeCount > c.probationFromProbe;
      if (input.failing || failedProbe || (!input.actively && !input.recovered)) return trip(c, input, policy);
      const passed = input.actively ? Math.min(input.consecutiveOk, input.probeCount - c.probationFromProbe) : policy.probationSuccesses;
      if (passed >= policy.probationSuccesses) return { ...c, state: 'closed', since: now, closedAt: now };
      return c;
    }
  }
}
