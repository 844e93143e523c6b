/**
 * weights section: one slow backend among four through a real Envoy. Backend b1 answers in 400 ms (the
 * cluster's latencyThresholdMs is 300) for a while, then is fast again; every few seconds a burst of
 * requests measures each backend's share through Envoy next to healthmesh's predicted share, and the EDS
 * pushes are counted. Then the number of EDS pushes per minute at steady state (nothing changes; target 0).
 */
import { createHealthmesh } from '../../src/app.js';
import { endpointKey } from '../../src/core/model.js';
import { TYPE } from '../../src/xds/protos.js';
import { startHttpBackends } from '../../test/support/backends.js';
import { testConfig } from '../../test/support/config.js';
import { startEnvoy } from '../../test/support/envoy.js';
import { freePort } from '../../test/support/net.js';
import { shares } from '../../test/support/traffic.js';
import { sleep, table } from '../lib/stats.js';
import type { Section, SectionContext, SectionResult } from './types.js';

const N = 4;
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

async function run(ctx: SectionContext): Promise<SectionResult> {
  const slowS = ctx.quick ? 12 : 30;
  const healS = ctx.quick ? 18 : 30;
  const steadyS = ctx.quick ? 20 : 60;
  const backends = await startHttpBackends(N);
  const listenerPort = await freePort();
  const app = createHealthmesh(
    testConfig({
      lrs: { reportIntervalMs: 1000 },
      health: { tickMs: 100 },
      listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
      routes: [{ name: 'local_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: 'demo' }] }] }],
      clusters: [
        {
          name: 'demo',
          healthCheck: { check: { http: { path: '/healthz' } }, intervalMs: 1000, timeoutMs: 800, latencyThresholdMs: 300 },
          endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })),
        },
      ],
    }),
  );
  const { xdsPort } = await app.start();
  const envoy = await startEnvoy({ xdsPort, mode: 'sotw' });
  const url = `http://127.0.0.1:${listenerPort}/`;
  let pushes = 0;
  app.controlPlane.cache.subscribe((next, prev) => {
    if (next.types[TYPE.endpoint].resources.get('demo') !== prev?.types[TYPE.endpoint].resources.get('demo')) pushes++;
  });
  const rows: string[][] = [];
  const samples: Array<Record<string, unknown>> = [];
  try {
    for (let i = 0; i < 60 && Object.keys((await shares(url, 40)).counts).length < N; i++) await sleep(500);
    const [slow] = backends;
    const t0 = Date.now();
    const sample = async (phase: string): Promise<void> => {
      const predicted = new Map(app.service.endpoints({ cluster: 'demo' }).map((e) => [e.key, e.expectedShare ?? 0]));
      const s = await shares(url, 200, { concurrency: 8 });
      const t = (Date.now() - t0) / 1000;
      const measured = backends.map((b) => s.share(b.name));
      const expected = backends.map((b) => predicted.get(endpointKey('demo', '127.0.0.1', b.port)) ?? 0);
      samples.push({ t, phase, measured, predicted: expected, pushes, errors: s.errors });
      rows.push([`${t.toFixed(1)} s`, phase, `${pct(measured[0]!)} (${pct(expected[0]!)})`, measured.slice(1).map(pct).join(' / '), String(pushes)]);
      ctx.log(`weights: ${t.toFixed(1)} s ${phase} b1 ${pct(measured[0]!)} predicted ${pct(expected[0]!)}`);
    };
    await sample('fast');
    slow!.setDelay(400);
    while (Date.now() - t0 < slowS * 1000) {
      await sleep(2000);
      await sample('b1 slow');
    }
    slow!.setDelay(0);
    const t1 = Date.now();
    while (Date.now() - t1 < healS * 1000) {
      await sleep(2000);
      await sample('b1 fast again');
    }
    const before = pushes;
    ctx.log(`weights: steady state for ${steadyS} s`);
    await sleep(steadyS * 1000);
    const perMinute = ((pushes - before) * 60) / steadyS;
    const out = table([['t', 'phase', 'b1 measured (predicted)', 'b2 / b3 / b4 measured', 'EDS pushes so far']], rows);
    return {
      ok: true,
      table: `${out}\n\nsteady state: ${pushes - before} EDS pushes in ${steadyS} s (${perMinute.toFixed(1)} per minute; target 0)`,
      data: { samples, steady: { seconds: steadyS, pushes: pushes - before, perMinute } },
    };
  } finally {
    await envoy.stop().catch(() => undefined);
    await app.stop().catch(() => undefined);
    await Promise.all(backends.map((b) => b.close().catch(() => undefined)));
  }
}

export const weightsSection: Section = {
  name: 'weights',
  description: 'one slow backend among four through Envoy: share over time (measured vs predicted), EDS pushes per minute at steady state',
  run,
};
