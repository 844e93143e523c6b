import { afterEach } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { testConfig } from './config.js';
import { endpointKey } from '../../src/core/model.js';
import type { EngineEvent } from '../../src/health/engine.js';
import { startHttpBackends, type Backend } from './backends.js';
import { startEnvoy, type EnvoyHandle } from './envoy.js';
import { freePort } from './net.js';
import { recordTimeline, type Timeline } from './timeline.js';
import { shares } from './traffic.js';
import { waitFor } from './wait.js';

/** A real Envoy, real backends and healthmesh's probes deciding: the rig for the health scenarios. */
export const INTERVAL = 500;
export const UNHEALTHY_THRESHOLD = 2;

export interface Rig {
  backends: Backend[];
  app: Healthmesh;
  envoy: EnvoyHandle;
  url: string;
  events: EngineEvent[];
  /** Probes, decisions, EDS versions and Envoy's ACKs in order, recorded from before the start. */
  timeline: Timeline;
  probes: Array<{ id: string; latencyMs: number; ok: boolean; at: number }>;
  key(b: Backend): string;
  host(b: Backend): Promise<{ health: string[]; weight: number } | undefined>;
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

export async function rig(
  n: number,
  health: Record<string, unknown> = {},
  intervalMs = INTERVAL,
  /** Defaults to the interval: a healthy in-process backend must not fail a probe because the machine is loaded. */
  timeoutMs = intervalMs,
  /** Extra fields of the cluster's healthCheck (e.g. latencyThresholdMs). */
  check: Record<string, unknown> = {},
  /** Extra fields of the cluster (e.g. outlierDetection). */
  cluster: Record<string, unknown> = {},
): Promise<Rig> {
  const backends = await startHttpBackends(n);
  cleanup.push(() => Promise.all(backends.map((b) => b.close())).then(() => undefined));
  const listenerPort = await freePort();
  const config = testConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 20 },
    lrs: { reportIntervalMs: 500 },
    health: {
      tickMs: 100,
      circuit: { baseOpenMs: 1500, maxOpenMs: 30_000, probationSuccesses: 2 },
      recovery: { windowMs: 6000, steps: 4, minWeightPercent: 10 },
      guard: { maxEjectedPercent: 70 },
      ...health,
    },
    listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
    routes: [{ name: 'local_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: 'demo' }] }] }],
    clusters: [
      {
        name: 'demo',
        healthCheck: { check: { http: { path: '/healthz' } }, intervalMs, timeoutMs, healthyThreshold: 2, unhealthyThreshold: UNHEALTHY_THRESHOLD, ...check },
        endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })),
        ...cluster,
      },
    ],
  });
  const app = createHealthmesh(config);
  const events: EngineEvent[] = [];
  app.engine.onEvent((e) => events.push(e));
  const probes: Rig['probes'] = [];
  app.onProbe((id, o) => probes.push({ id, latencyMs: o.latencyMs, ok: o.ok, at: o.at }));
  const timeline = recordTimeline({ app });
  cleanup.push(async () => timeline.stop());
  const { xdsPort } = await app.start();
  cleanup.push(() => app.stop());
  const envoy = await startEnvoy({ xdsPort, mode: 'sotw' });
  cleanup.push(() => envoy.stop());
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitFor(async () => Object.keys((await shares(url, 30)).counts).length === n, { timeoutMs: 20_000, what: 'traffic to every backend' });
  return {
    backends,
    app,
    envoy,
    url,
    events,
    timeline,
    probes,
    key: (b) => endpointKey('demo', '127.0.0.1', b.port),
    host: async (b) => (await envoy.clusterHosts('demo')).find((h) => h.port === b.port),
  };
}

export const ejected = (h: { health: string[] } | undefined): boolean => !!h?.health.includes('UNHEALTHY');
