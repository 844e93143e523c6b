import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { endpointKey } from '../../src/core/model.js';
import { decodeAnyBytes, TYPE } from '../../src/xds/protos.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { testConfig } from '../support/config.js';
import { waitFor } from '../support/wait.js';

interface Cla {
  cluster_name: string;
  endpoints?: Array<{
    lb_endpoints?: Array<{
      endpoint: { address: { socket_address: { address: string; port_value: number } } };
      health_status?: string;
      load_balancing_weight?: { value: number };
    }>;
  }>;
}

/** What EDS carries for `cluster` in the current snapshot: port (127.0.0.1) or address:port → "HEALTH/weight". */
function eds(app: Healthmesh, cluster: string): Record<string, string> {
  const entry = app.controlPlane.cache.current()?.types[TYPE.endpoint].resources.get(cluster);
  if (!entry) return {};
  const cla = decodeAnyBytes<Cla>(entry.any);
  const out: Record<string, string> = {};
  for (const loc of cla.endpoints ?? []) {
    for (const lb of loc.lb_endpoints ?? []) {
      const sa = lb.endpoint.address.socket_address;
      out[sa.address === '127.0.0.1' ? String(sa.port_value) : `${sa.address}:${sa.port_value}`] =
        `${lb.health_status ?? 'UNKNOWN'}/${lb.load_balancing_weight?.value ?? 1}`;
    }
  }
  return out;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function backends(n: number): Promise<Backend[]> {
  const b = await startHttpBackends(n);
  cleanups.push(() => Promise.all(b.map((x) => x.close())).then(() => undefined));
  return b;
}

function app(raw: Record<string, unknown>): Healthmesh {
  const a = createHealthmesh(testConfig(raw));
  cleanups.push(() => a.stop());
  return a;
}

// timeout = interval: no healthy backend fails a probe because the machine is loaded (no test here hangs a backend).
const check = { check: { http: { path: '/healthz' } }, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 2 };

describe('EDS is membership × assignment', () => {
  it('config `health` is an operator override, with and without checks', async () => {
    const [b1] = await backends(1);
    const h = app({
      clusters: [
        {
          name: 'plain',
          endpoints: [
            { address: '10.1.0.1', port: 80, health: 'DRAINING' },
            { address: '10.1.0.2', port: 80, health: 'UNHEALTHY' },
            { address: '10.1.0.3', port: 80, health: 'DEGRADED' },
            { address: '10.1.0.4', port: 80, health: 'UNKNOWN' },
            { address: '10.1.0.5', port: 80 },
          ],
        },
        // The check passes, but the operator said DRAINING.
        { name: 'checked', healthCheck: check, endpoints: [{ address: '127.0.0.1', port: b1!.port, health: 'DRAINING' }] },
      ],
    });
    await h.start();
    const plain = eds(h, 'plain');
    expect(Object.values(plain).map((v) => v.split('/')[0])).toEqual(['DRAINING', 'UNHEALTHY', 'DEGRADED', 'HEALTHY', 'HEALTHY']);
    await waitFor(() => b1!.healthChecks > 0, { timeoutMs: 5000, what: 'the checked endpoint to be probed' });
    expect(eds(h, 'checked')[b1!.port]).toMatch(/^DRAINING\//);
    const ep = h.engine.endpoint(endpointKey('checked', '127.0.0.1', b1!.port))!;
    expect(ep.decision.reasons.at(-1)).toBe('health set to DRAINING in the config file');
  });

  it('a registered endpoint is not served before its first check passes', async () => {
    const [b1, b2] = await backends(2);
    b2!.setHealthStatus(503);
    const h = app({ clusters: [{ name: 'web', healthCheck: check, endpoints: [{ address: '127.0.0.1', port: b1!.port }] }] });
    await h.start();
    expect(eds(h, 'web')[b1!.port]).toBe('HEALTHY/100');
    await h.service.register({ cluster: 'web', address: '127.0.0.1', port: b2!.port });
    await waitFor(() => eds(h, 'web')[b2!.port], { timeoutMs: 5000, what: 'the registered endpoint in EDS' });
    expect(eds(h, 'web')[b2!.port]).toMatch(/^UNHEALTHY\//);
    const reasons = (): string[] => h.engine.endpoint(endpointKey('web', '127.0.0.1', b2!.port))!.decision.reasons;
    expect(reasons()[0]).toMatch(/^new endpoint: awaiting its first/);
    await waitFor(() => b2!.healthChecks > 0, { timeoutMs: 5000, what: 'the first probe of the new endpoint' });
    await h.controlPlane.topology.flushed();
    expect(eds(h, 'web')[b2!.port]).toMatch(/^UNHEALTHY\//);
    b2!.setHealthStatus(200);
    await waitFor(() => eds(h, 'web')[b2!.port] === 'HEALTHY/100', { timeoutMs: 5000, what: 'the new endpoint served after its first passing check' });
    // It was never guard-kept nor alerted on while warming, and its history (what reports read) has no point
    // from while it awaited its first check: that is no incident.
    expect(h.alerts.list({}).filter((a) => a.message.includes(String(b2!.port)))).toEqual([]);
    h.recordHistory();
    const history = h.store.history(endpointKey('web', '127.0.0.1', b2!.port));
    expect(history.length).toBeGreaterThan(0);
    expect(history.filter((p) => p.reasons?.some((r) => r.startsWith('new endpoint: awaiting')))).toEqual([]);
    expect(history.at(-1)?.status).toBe('HEALTHY');
  });

  it('after a restart the first snapshot equals the last one published before it (store restored first)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'healthmesh-assign-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const bs = await backends(4);
    const raw = {
      store: { path: join(dir, 'h.db') },
      health: { tickMs: 50, circuit: { baseOpenMs: 60_000 }, recovery: { windowMs: 60_000, steps: 4 }, guard: { maxEjectedPercent: 50 } },
      clusters: [{ name: 'web', healthCheck: check, endpoints: bs.map((b) => ({ address: '127.0.0.1', port: b.port })) }],
    };
    const first = createHealthmesh(testConfig(raw));
    await first.start();
    bs[0]!.setHealthStatus(503);
    bs[1]!.setHealthStatus(503);
    bs[2]!.setHealthStatus(503);
    await waitFor(() => first.engine.clusters().get('web')?.guarded === 1 && first.engine.clusters().get('web')?.ejected === 2, {
      timeoutMs: 10_000,
      what: 'two ejected, one kept by the guard',
    });
    await first.controlPlane.topology.flushed();
    const before = eds(first, 'web');
    const beforeVersion = first.controlPlane.cache.current()!.version;
    const scoresBefore = new Map(
      bs
        .map((b) => endpointKey('web', '127.0.0.1', b.port))
        .filter((k) => first.engine.endpoint(k)?.decision.circuit === 'open')
        .map((k) => [k, first.engine.endpoint(k)!.decision.score] as const),
    );
    expect(scoresBefore.size).toBe(3);
    expect([...scoresBefore.values()].every((v) => v < 100)).toBe(true);
    await first.stop();

    // The checks keep failing: whatever the new process knows, its first snapshot must be the old one.
    const second = app(raw);
    await second.start();
    expect(eds(second, 'web')).toStrictEqual(before);
    expect(BigInt(second.controlPlane.cache.current()!.version)).toBeGreaterThan(BigInt(beforeVersion));
    const ejected = Object.values(before).filter((v) => v.startsWith('UNHEALTHY')).length;
    expect(ejected).toBe(2);
    // An ejected endpoint (open circuit: not probed before its probation) shows the score it had, not an empty window's 100.
    for (const [key, score] of scoresBefore) {
      const d = second.engine.endpoint(key)?.decision;
      expect(d?.circuit).toBe('open');
      expect(d?.score).toBe(score);
      expect(d?.reasons.join('; ')).toContain(`score ${score} as before the restart (no signal since)`);
    }
  });
  it('a restart lowers no weight without evidence: a cold first probe among fast peers is not "slow relative to the cluster"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'healthmesh-assign-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const bs = await backends(4);
    const raw = {
      store: { path: join(dir, 'h.db') },
      health: { tickMs: 50, weighting: { minDwellMs: 0 } }, // no dwell: a level change would show at once
      clusters: [
        { name: 'web', healthCheck: { ...check, intervalMs: 1000, timeoutMs: 1000 }, endpoints: bs.map((b) => ({ address: '127.0.0.1', port: b.port })) },
      ],
    };
    const allFull = (e: Record<string, string>) => bs.every((b) => e[b.port] === 'HEALTHY/100');
    const first = app(raw);
    await first.start();
    await waitFor(() => allFull(eds(first, 'web')), { timeoutMs: 10_000, what: 'all HEALTHY/100' });
    await first.stop();

    // The restarted process's first probe of b1 is slow (40 ms: a cold connection), every later one fast.
    const slow = bs[0]!;
    slow.setDelay(40);
    const second = app(raw);
    const seen = new Set<string>();
    second.controlPlane.cache.subscribe(() => void seen.add(eds(second, 'web')[slow.port] ?? 'absent'));
    const checksAtStart = slow.healthChecks;
    await second.start();
    await waitFor(() => slow.healthChecks > checksAtStart, { timeoutMs: 5000, intervalMs: 5, what: "b1's first probe after the restart" });
    slow.setDelay(0);
    // Long enough (1 s apart) for the peers' median to exist while b1 is judged on one and on two samples.
    await waitFor(() => slow.healthChecks >= checksAtStart + 3, { timeoutMs: 10_000, what: 'three probes of b1 after the restart' });
    await second.controlPlane.topology.flushed();
    seen.add(eds(second, 'web')[slow.port] ?? 'absent');
    expect([...seen]).toEqual(['HEALTHY/100']);
    expect(second.engine.endpoint(endpointKey('web', '127.0.0.1', slow.port))?.decision.reasons.join('; ')).not.toMatch(/median latency/);
  });
});
