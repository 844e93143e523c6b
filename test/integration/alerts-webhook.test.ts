import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertManager } from '../../src/alerts/manager.js';
import { alertsSchema } from '../../src/config/schema.js';
import type { AlertInput } from '../../src/core/alerts.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../support/wait.js';

/** Alert delivery to a real local webhook receiver: retries, timeouts, nothing blocks. */
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function receiver(
  handler: (req: IncomingMessage, body: string, n: number) => number | 'hang',
): Promise<{ url: string; bodies: string[]; attempts: () => number }> {
  const bodies: string[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const verdict = handler(req, body, ++n);
      if (verdict === 'hang') return;
      bodies.push(body);
      res.writeHead(verdict).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, attempts: () => n };
}

function manager(url: string, state: { input: AlertInput }, over: Record<string, unknown> = {}) {
  const config = alertsSchema.parse({ cooldownMs: 0, webhook: { url, timeoutMs: 300, retries: 2 }, ...over });
  return new AlertManager({ config, logger: silentLogger(), input: () => state.input });
}

const failing: AlertInput = {
  endpoints: [],
  clusters: [{ name: 'web', total: 4, healthy: 1, guarded: 1, allFailing: false, reason: '3 of 4 endpoints failing' }],
  proxies: [],
};
const fine: AlertInput = { endpoints: [], clusters: [{ name: 'web', total: 4, healthy: 4, guarded: 0, allFailing: false }], proxies: [] };

describe('alert webhook', () => {
  it('delivers fired and resolved events, retrying a receiver that fails once', async () => {
    const hook = await receiver((_req, _body, n) => (n === 1 ? 503 : 200));
    const state = { input: failing };
    // A long timeout: the retry is the 503's doing. A receiver stalled past a short one by a loaded machine would
    // have its body counted and be posted again, which is not what this checks (timeouts: the next test).
    const m = manager(hook.url, state, { webhook: { url: hook.url, timeoutMs: 10_000, retries: 2 } });
    m.evaluate();
    state.input = fine;
    m.evaluate();
    await m.idle();
    const events = hook.bodies.map((b) => JSON.parse(b) as { event: string; alert: { rule: string; level: string; message: string } });
    // The first attempt got a 503 and was retried.
    expect(events.map((e) => e.event)).toEqual(['fired', 'fired', 'resolved']);
    expect(events[0]!.alert).toMatchObject({ rule: 'cluster_capacity', level: 'critical' });
    expect(events[0]!.alert.message).toMatch(/1 of 4 endpoints healthy .* guard: 3 of 4 endpoints failing/);
    expect(m.list()).toHaveLength(1);
    expect(m.list()[0]).toMatchObject({ state: 'resolved' });
    await m.stop();
  });

  it('a hanging receiver times out per attempt and never blocks evaluation', async () => {
    const hook = await receiver(() => 'hang');
    const state = { input: failing };
    const m = manager(hook.url, state);
    const seen: string[] = [];
    m.onAlert((a, kind) => seen.push(`${kind}:${a.rule}`));
    m.evaluate();
    state.input = fine;
    m.evaluate();
    // Both evaluations finished before the first delivery even reached the receiver: nothing waits for it.
    expect(seen).toEqual(['fired:cluster_capacity', 'resolved:cluster_capacity']);
    expect(hook.attempts()).toBe(0);
    await waitFor(
      async () => {
        await m.idle();
        return true;
      },
      { timeoutMs: 10_000, what: 'deliveries to give up' },
    );
    // Each attempt timed out and was given up after its retries: 2 events × 3 attempts, no more (the outer deadline
    // above bounds 2 × 3 × 300 ms timeouts + backoff generously).
    await waitFor(() => hook.attempts() === 6, { timeoutMs: 5000, what: 'six attempts seen by the receiver' });
    expect(hook.attempts()).toBe(6);
    await m.stop();
  });

  it('acknowledging an unknown alert is NOT_FOUND; a known one records who', async () => {
    const hook = await receiver(() => 200);
    const m = manager(hook.url, { input: failing });
    m.evaluate();
    expect(() => m.acknowledge('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    const a = m.acknowledge(m.list()[0]!.id, 'ops@example');
    expect(a).toMatchObject({ acknowledgedBy: 'ops@example', state: 'firing' });
    await m.stop();
  });
});

describe('alerts keyed by rule, not by client-chosen ids', () => {
  it('10,000 NACKing proxies raise one nack alert and one webhook post; resolved keys are pruned after the cooldown', async () => {
    const hook = await receiver(() => 200);
    let t = 1_000_000;
    const many: AlertInput = {
      endpoints: [],
      clusters: [],
      proxies: Array.from({ length: 10_000 }, (_, i) => ({ nodeId: `forged-${i}`, nacked: [{ type: 'Cluster', message: 'bad' }] })),
    };
    const state = { input: many };
    const config = alertsSchema.parse({ cooldownMs: 60_000, webhook: { url: hook.url, timeoutMs: 300, retries: 0 } });
    const m = new AlertManager({ config, logger: silentLogger(), input: () => state.input, now: () => t });
    m.evaluate();
    state.input = { ...many, proxies: many.proxies.slice(0, 5000) };
    t += 1000;
    m.evaluate();
    await m.idle();
    expect(hook.bodies).toHaveLength(1);
    expect(m.list()).toHaveLength(1);
    expect(m.list()[0]).toMatchObject({ rule: 'nack', subject: 'proxies', state: 'firing' });
    expect(m.list()[0]!.message).toMatch(/^5000 proxies rejected/);

    state.input = { endpoints: [], clusters: [], proxies: [] };
    t += 1000;
    m.evaluate();
    expect(m.knownCount()).toBe(1); // within the cooldown: kept, so a quick re-fire is silent
    t += 60_000;
    m.evaluate();
    expect(m.knownCount()).toBe(0);
    expect(m.list()).toHaveLength(1); // history stays (bounded by historyLimit)
    await m.stop();
  });
});
