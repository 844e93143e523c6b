import { describe, expect, it } from 'vitest';
import type { Backend } from '../support/backends.js';
import { rig, type Rig } from '../support/rig.js';
import { step, type Step, type TimelineEntry } from '../support/timeline.js';
import { waitFor } from '../support/wait.js';

/** A rig whose first backend is about to flap, and a mark on its timeline from which EDS pushes are counted. */
async function flappingRig(): Promise<{ r: Rig; flappy: Backend; start: TimelineEntry; checksBefore: number }> {
  const r = await rig(3, {}, 250);
  const [flappy] = r.backends as [Backend];
  return { r, flappy, start: r.timeline.mark(r.key(flappy), 'flapping from now'), checksBefore: flappy.healthChecks };
}

/** EDS versions of the cluster published after `start`. */
const pushes = (r: Rig, start: TimelineEntry) => r.timeline.published.filter((p) => p.cluster === 'demo' && p.seq > start.seq);

/** The last EDS version published for the flapping host is the one Envoy holds: its ACK follows it. */
async function expectEnvoyFollows(r: Rig, key: string, start: TimelineEntry): Promise<void> {
  const last = r.timeline
    .of('eds', key)
    .filter((e) => e.seq > start.seq)
    .at(-1);
  if (!last) return;
  await r.timeline.waitForOrder(key, [step('eds', { match: (e) => e.seq === last.seq }), step('ack')] as Step[], {
    after: start,
    timeoutMs: 10_000,
    what: "Envoy's ACK of the last EDS version",
  });
}

/** Scenario 5: no flapping. */
describe('flapping hosts with a real Envoy', () => {
  it('5: a host failing every other check causes only a handful of EDS pushes', async () => {
    const { r, flappy, start, checksBefore } = await flappingRig();
    flappy.setHealthPattern([503, 200]);
    // A positive marker, not a time window: 60 alternating checks answered.
    await waitFor(() => flappy.healthChecks - checksBefore >= 60, { timeoutMs: 60_000, intervalMs: 200, what: '60 alternating checks' });
    const d = r.app.engine.endpoint(r.key(flappy))!.decision;
    const edsOfFlappy = r.timeline.of('eds', r.key(flappy)).filter((e) => e.seq > start.seq);
    console.log(
      `[scenario 5] ${flappy.healthChecks - checksBefore} alternating checks → ${pushes(r, start).length} EDS pushes (${edsOfFlappy.map((e) => `${e.health}/${e.weight}`).join(' → ')}); now ${d.status}/${d.circuit} weight ${d.weight}: ${d.reasons.join('; ')}`,
    );
    expect(pushes(r, start).length).toBeLessThanOrEqual(5);
    expect(d.status).not.toBe('HEALTHY');
    await expectEnvoyFollows(r, r.key(flappy), start);
  });

  it('5b: a host that trips the breaker over and over is held down by backoff, not toggled per check', async () => {
    const { r, flappy, start, checksBefore } = await flappingRig();
    flappy.setHealthPattern([503, 503, 200, 200]); // two failures trip it (threshold 2), two passes would let it back
    await waitFor(() => flappy.healthChecks - checksBefore >= 60, { timeoutMs: 60_000, intervalMs: 200, what: '60 checks' });
    const d = r.app.engine.endpoint(r.key(flappy))!.decision;
    const trips = r.events.filter((e) => e.kind === 'endpoint' && e.endpoint.key === r.key(flappy) && e.endpoint.decision.circuit === 'open').length;
    console.log(
      `[scenario 5b] ${flappy.healthChecks - checksBefore} checks (15 failure bursts) → ${trips} trips, ${pushes(r, start).length} EDS pushes; now ${d.status}/${d.circuit}: ${d.reasons.join('; ')}`,
    );
    expect(pushes(r, start).length).toBeLessThanOrEqual(8);
    expect(d.flapping || d.circuit === 'open').toBe(true);
    await expectEnvoyFollows(r, r.key(flappy), start);
  });
});
