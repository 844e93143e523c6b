import type { RecoveryPolicy } from './policy.js';

/**
 * Slow start after recovery: the share of the target weight an endpoint gets `elapsedMs` after
 * its circuit closed, `max(min, (t / window) ^ (1 / aggression))`, quantised down to `steps`
 * levels (never above the target, 1 once the window has passed). Pure.
 */
export function rampFraction(elapsedMs: number | undefined, policy: RecoveryPolicy): number {
  const min = policy.minWeightPercent / 100;
  if (elapsedMs === undefined || policy.windowMs <= 0 || elapsedMs >= policy.windowMs) return 1;
  if (elapsedMs <= 0) return min;
  const curve = (elapsedMs / policy.windowMs) ** (1 / policy.aggression);
  const quantised = Math.floor(curve * policy.steps + 1e-9) / policy.steps;
  return Math.min(1, Math.max(min, quantised));
}

/** The integer weight Envoy gets for `fraction` of a target weight: at least 1, never above the target. */
export function weightFor(target: number, fraction: number): number {
  return Math.max(1, Math.min(target, Math.round(target * fraction)));
}
