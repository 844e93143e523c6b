import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { callStatus, createStatusClient, type StatusClient } from '../../src/status/proto.js';
import { bearer, TEST_TOKENS } from '../support/auth.js';
import { testConfig } from '../support/config.js';

/**
 * Issue 10, finding 3: registration cost does not grow with the number of other endpoints. 3,000
 * registrations over the real Status service (8 in flight, file store with durable writes): the third
 * 1,000 is no slower than 2× the first, and an unrelated cluster's EDS keeps being published.
 */
let app: Healthmesh;
let client: StatusClient;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'healthmesh-regscale-'));
  app = createHealthmesh(
    testConfig({
      store: { path: join(dir, 'h.db') },
      clusters: [{ name: 'bulk' }, { name: 'other', endpoints: [{ address: '10.9.0.1', port: 80 }] }],
    }),
  );
  const { statusPort } = await app.start();
  client = createStatusClient(`127.0.0.1:${statusPort}`);
});

afterAll(async () => {
  client?.close();
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Wall time and CPU time (this process: the server and the gRPC client) of registering [from, to). */
async function registerRange(from: number, to: number, inFlight: number): Promise<{ wallMs: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let next = from;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < to) {
        const i = next++;
        await callStatus(
          client,
          'RegisterEndpoint',
          { cluster: 'bulk', address: `10.${Math.floor(i / 65_000) + 1}.${Math.floor((i % 65_000) / 250)}.${(i % 250) + 1}`, port: 8080 },
          30_000,
          bearer(TEST_TOKENS.operator),
        );
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

describe('registration at scale', () => {
  it('3,000 registrations, 8 in flight: cost independent of the endpoints already there', async () => {
    const runs: Array<{ wallMs: number; cpuMs: number }> = [];
    for (let k = 0; k < 3; k++) runs.push(await registerRange(k * 1000, (k + 1) * 1000, 8));
    console.log(`[registration-scale] per 1,000 registrations: ${runs.map((r) => `${Math.round(r.wallMs)} ms (CPU ${Math.round(r.cpuMs)} ms)`).join(', ')}`);
    // CPU time, not wall time: other processes on a loaded CI machine do not change it.
    const times = runs.map((r) => r.cpuMs);
    expect(app.service.endpoints({ cluster: 'bulk' })).toHaveLength(3000);
    await app.controlPlane.topology.flushed();
    expect(app.controlPlane.topology.endpoints('bulk')).toHaveLength(3000);
    // The third thousand costs no more than twice the first (a small constant for GC noise).
    expect(times[2]!).toBeLessThanOrEqual(2 * times[0]! + 300);
    // Generous outer bound for a loaded 2-core machine; the figures are printed above.
    expect(runs.reduce((a, r) => a + r.wallMs, 0)).toBeLessThan(60_000);
  }, 120_000);
});
