import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../src/agent/agent.js';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { testConfig } from '../support/config.js';
import { endpointKey } from '../../src/core/model.js';
import { silentLogger } from '../../src/log.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';
import { TEST_TOKENS } from '../support/auth.js';

/** The engine fed by real signals: dependency probes, custom check modules, node agents over gRPC. */
const FIXTURES = resolve(fileURLToPath(import.meta.url), '../../fixtures');
let stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  stops = [];
});

async function start(raw: Record<string, unknown>): Promise<{ app: Healthmesh; xdsPort: number }> {
  const app = createHealthmesh(testConfig({ xds: { listen: '127.0.0.1:0', debounceMs: 10 }, ...raw }), { configDir: FIXTURES });
  const { xdsPort } = await app.start();
  stops.push(() => app.stop());
  return { app, xdsPort };
}
async function backends(n: number): Promise<Backend[]> {
  const b = await startHttpBackends(n);
  stops.push(() => Promise.all(b.map((x) => x.close())));
  return b;
}
const decision = (app: Healthmesh, cluster: string, port: number) => app.engine.endpoint(endpointKey(cluster, '127.0.0.1', port))?.decision;

describe('engine with real signals', () => {
  it('a failing dependency fails the endpoints that need it, and they recover when it is back', async () => {
    const [b1, b2] = await backends(2);
    const dbPort = await freePort();
    const { app } = await start({
      health: { tickMs: 50, guard: { maxEjectedPercent: 100 }, circuit: { baseOpenMs: 200 }, recovery: { windowMs: 0 } },
      clusters: [
        {
          name: 'web',
          healthCheck: { check: { tcp: {} }, intervalMs: 200, timeoutMs: 200 },
          dependencies: [{ name: 'db', address: '127.0.0.1', port: dbPort, check: { tcp: {} }, timeoutMs: 200 }],
          endpoints: [b1, b2].map((b) => ({ address: '127.0.0.1', port: b!.port })),
        },
      ],
    });
    await waitFor(() => decision(app, 'web', b1!.port)?.health === 'UNHEALTHY', { timeoutMs: 5000, what: 'endpoints failed by the dead dependency' });
    expect(decision(app, 'web', b1!.port)!.reasons[0]).toMatch(/^dependency db failing: .*refused/i);
    expect(app.engine.clusters().get('web')).toMatchObject({ allFailing: true, ejected: 2 });

    const db: Server = createServer((s) => s.end());
    await new Promise<void>((r) => db.listen(dbPort, '127.0.0.1', () => r()));
    stops.push(() => new Promise((r) => db.close(() => r(undefined))));
    await waitFor(() => decision(app, 'web', b1!.port)?.health === 'HEALTHY' && decision(app, 'web', b2!.port)?.health === 'HEALTHY', {
      timeoutMs: 5000,
      what: 'recovery once the dependency is up',
    });
  });

  it('custom check modules: a passing one keeps the endpoint, a throwing one fails it with its message', async () => {
    const [b1, b2] = await backends(2);
    const { app } = await start({
      health: { tickMs: 50, guard: { maxEjectedPercent: 100 } },
      clusters: [
        {
          name: 'custom',
          // timeout = interval, 400 ms: b1 must keep score 100, which one probe timed out by a loaded machine would spoil.
          healthCheck: { check: { custom: { module: 'checks/ok.mjs' } }, intervalMs: 400, timeoutMs: 400, unhealthyThreshold: 2 },
          endpoints: [
            { address: '127.0.0.1', port: b1!.port },
            { address: '127.0.0.1', port: b2!.port, healthCheck: { check: { custom: { module: 'checks/throws.mjs' } } } },
          ],
        },
      ],
    });
    // New endpoints are not served before their first passing check; the throwing one never passes and trips.
    await waitFor(() => decision(app, 'custom', b2!.port)?.circuit === 'open', { timeoutMs: 10_000, what: 'the throwing custom check to fail its endpoint' });
    expect(decision(app, 'custom', b2!.port)!.health).toBe('UNHEALTHY');
    expect(decision(app, 'custom', b1!.port)).toMatchObject({ health: 'HEALTHY', score: 100 });
    console.log('[custom] reasons:', decision(app, 'custom', b2!.port)!.reasons);
    expect(decision(app, 'custom', b2!.port)!.reasons[0]).toMatch(/consecutive failed checks/);
  });

  it('node agents: pressure degrades, silence degrades then fails, heartbeats again restore', async () => {
    const [b1, b2, b3] = await backends(3);
    const { app, xdsPort } = await start({
      health: { tickMs: 50, circuit: { baseOpenMs: 100 }, recovery: { windowMs: 0 } },
      agents: { heartbeatTimeoutMs: 600, failAfterMs: 1500 },
      clusters: [{ name: 'web', endpoints: [b1, b2, b3].map((b) => ({ address: '127.0.0.1', port: b!.port })) }],
    });
    let memory = 95;
    const agent = new NodeAgent({
      controlPlane: `127.0.0.1:${xdsPort}`,
      nodeId: 'node-a',
      endpoints: [{ cluster: 'web', address: '127.0.0.1', port: b1!.port }],
      intervalMs: 150,
      logger: silentLogger(),
      token: TEST_TOKENS.agent,
      sample: async () => ({ cpuPercent: 20, memoryPercent: memory, diskPercent: 40 }),
    });
    agent.start();
    stops.push(() => agent.stop());
    await waitFor(() => decision(app, 'web', b1!.port)?.status === 'DEGRADED', { timeoutMs: 5000, what: 'memory pressure to degrade the endpoint' });
    expect(decision(app, 'web', b1!.port)!.reasons).toContain('memory 95% > 90%');
    expect(decision(app, 'web', b2!.port)!.status).toBe('HEALTHY');
    memory = 40;
    await waitFor(() => decision(app, 'web', b1!.port)?.status === 'HEALTHY', { timeoutMs: 5000, what: 'relief to restore it' });

    await agent.stop();
    await waitFor(() => decision(app, 'web', b1!.port)?.reasons.some((r) => /^no heartbeat from node node-a for/.test(r)), {
      timeoutMs: 5000,
      what: 'a missing heartbeat noticed',
    });
    await waitFor(() => decision(app, 'web', b1!.port)?.health === 'UNHEALTHY', { timeoutMs: 5000, what: 'a lost node to fail its endpoint' });

    const again = new NodeAgent({
      controlPlane: `127.0.0.1:${xdsPort}`,
      nodeId: 'node-a',
      endpoints: [{ cluster: 'web', address: '127.0.0.1', port: b1!.port }],
      intervalMs: 150,
      logger: silentLogger(),
      token: TEST_TOKENS.agent,
      sample: async () => ({ cpuPercent: 20, memoryPercent: 40, diskPercent: 40 }),
    });
    again.start();
    stops.push(() => again.stop());
    await waitFor(() => decision(app, 'web', b1!.port)?.health === 'HEALTHY', { timeoutMs: 5000, what: 'heartbeats to bring it back' });
  });

  it('a node that goes silent is detached after failAfterMs + detachGraceMs: its last sample stops counting', async () => {
    const [b1, b2] = await backends(2);
    const { app, xdsPort } = await start({
      health: { tickMs: 50, circuit: { baseOpenMs: 100 }, recovery: { windowMs: 0 } },
      agents: { heartbeatTimeoutMs: 300, failAfterMs: 600, detachGraceMs: 600 },
      clusters: [{ name: 'web', endpoints: [b1, b2].map((b) => ({ address: '127.0.0.1', port: b!.port })) }],
    });
    // One forged-looking heartbeat under an invented node id (the attack of issue 10): cpu 100, then silence.
    const agent = new NodeAgent({
      controlPlane: `127.0.0.1:${xdsPort}`,
      nodeId: 'invented-node',
      endpoints: [{ cluster: 'web', address: '127.0.0.1', port: b1!.port }],
      intervalMs: 60_000,
      logger: silentLogger(),
      token: TEST_TOKENS.agent,
      sample: async () => ({ cpuPercent: 100, memoryPercent: 40, diskPercent: 40 }),
    });
    agent.start();
    stops.push(() => agent.stop());
    await waitFor(() => agent.stats().ok === 1, { timeoutMs: 5000, what: 'the one heartbeat accepted' });
    await agent.stop();
    const seen: string[] = [];
    await waitFor(
      () => {
        const d = decision(app, 'web', b1!.port);
        if (d && seen.at(-1) !== d.health) seen.push(d.health);
        return seen.includes('UNHEALTHY') && d?.health === 'HEALTHY' && d;
      },
      { timeoutMs: 10_000, intervalMs: 20, what: 'the lost node to fail the endpoint, then be detached' },
    );
    // Failed while lost, then back once detached: no heartbeat age, no node reason left.
    expect(seen.slice(seen.indexOf('UNHEALTHY'))).toEqual(['UNHEALTHY', 'HEALTHY']);
    expect(decision(app, 'web', b1!.port)!.reasons.join(';')).not.toMatch(/node|heartbeat/);
    expect(app.engine.metrics(`web/127.0.0.1:${b1!.port}`)?.heartbeatAgeS).toBeUndefined();
  });
});
