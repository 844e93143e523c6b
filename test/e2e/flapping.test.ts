import { describe, expect, it } from 'vitest';
import { TYPE } from '../../src/xds/protos.js';
import type { Backend } from '../support/backends.js';
import { rig, type Rig } from '../support/rig.js';
import { waitFor } from '../support/wait.js';

/** A rig whose first backend will flap, counting the EDS pushes of its cluster from now on. */
async function flappingRig(): Promise<{ r: Rig; flappy: Backend; pushes: () => number; checksBefore: number }> {
  const r = await rig(3, {}, 250);
  const [flappy] = r.backends as [Backend];
  let pushes = 0;
  r.app.controlPlane.cache.subscribe((next, prev) => {
    if (next.types[TYPE.endpoint].resources.get('demo') !== prev?.types[TYPE.endpoint].resources.get('demo')) pushes++;
  });
  return { r, flappy, pushes: () => pushes, checksBefore: flappy.healthChecks };
}

/** Scenario 5: no flapping. */
describe('flapping hosts with a real Envoy', () => {
  it('5: a host failing every other check causes only a handful of EDS pushes', async () => {
    const { r, flappy, pushes, checksBefore } = await flappingRig();
    flappy.setHealthPattern([503, 200]);
    await waitFor(() => flappy.healthChecks - checksBefore >= 60, { timeoutMs: 30_000, intervalMs: 200, what: '60 alternating checks' });
    const d = r.app.engine.endpoint(r.key(flappy))!.decision;
    console.log(
      `[scenario 5] ${flappy.healthChecks - checksBefore} alternating checks → ${pushes()} EDS pushes; now ${d.status}/${d.circuit} weight ${d.weight}: ${d.reasons.join('; ')}`,
    );
    expect(pushes()).toBeLessThanOrEqual(5);
    expect(d.status).not.toBe('HEALTHY');
  });

  it('5b: a host that trips the breaker over and over is held down by backoff, not toggled per check', async () => {
    const { r, flappy, pushes, checksBefore } = await flappingRig();
    flappy.setHealthPattern([503, 503, 200, 200]); // two failures trip it (threshold 2), two passes would let it back
    await waitFor(() => flappy.healthChecks - checksBefore >= 60, { timeoutMs: 30_000, intervalMs: 200, what: '60 checks' });
    const d = r.app.engine.endpoint(r.key(flappy))!.decision;
    const trips = r.events.filter((e) => e.kind === 'endpoint' && e.endpoint.key === r.key(flappy) && e.endpoint.decision.circuit === 'open').length;
    console.log(
      `[scenario 5b] ${flappy.healthChecks - checksBefore} checks (15 failure bursts) → ${trips} trips, ${pushes()} EDS pushes; now ${d.status}/${d.circuit}: ${d.reasons.join('; ')}`,
    );
    expect(pushes()).toBeLessThanOrEqual(8);
    expect(d.flapping || d.circuit === 'open').toBe(true);
  });
});
