import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import type { EndpointKey, TrafficSample } from '../../src/core/model.js';
import { silentLogger } from '../../src/log.js';
import { LrsService } from '../../src/signals/lrs.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.js';
import { freePort } from '../support/net.js';
import { shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';
import { testAuthenticator } from '../support/auth.js';

const REPORT_INTERVAL_MS = 500;

/** Passive signals: a real Envoy reports per-endpoint load to healthmesh over LRS. */
describe('Envoy load reports (LRS)', () => {
  let backends: Backend[];
  let cp: ControlPlane;
  let lrs: LrsService;
  let envoy: EnvoyHandle;
  let url: string;
  const samples: Array<{ key: EndpointKey; sample: TrafficSample; nodeId: string }> = [];

  const totals = (): Map<EndpointKey, { successes: number; errors: number; reports: number }> => {
    const m = new Map<EndpointKey, { successes: number; errors: number; reports: number }>();
    for (const { key, sample } of samples) {
      const t = m.get(key) ?? { successes: 0, errors: 0, reports: 0 };
      t.successes += sample.successes;
      t.errors += sample.errors;
      t.reports++;
      m.set(key, t);
    }
    return m;
  };
  const key = (b: Backend): EndpointKey => `demo/127.0.0.1:${b.port}`;

  beforeAll(async () => {
    backends = await startHttpBackends(3);
    backends[2]!.setStatus(503);
    const listenerPort = await freePort();
    url = `http://127.0.0.1:${listenerPort}/`;
    const config = validateConfig({
      xds: { listen: '127.0.0.1:0', debounceMs: 20 },
      lrs: { reportIntervalMs: REPORT_INTERVAL_MS },
      listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
      routes: [{ name: 'local_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: 'demo' }] }] }],
      clusters: [{ name: 'demo', endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })) }],
    });
    lrs = new LrsService({
      config: config.lrs,
      logger: silentLogger(),
      onTraffic: (k, sample, nodeId) => samples.push({ key: k, sample, nodeId }),
      // Envoy sends the test proxy token (startEnvoy renders it into the bootstrap) over its real ADS stream.
      auth: testAuthenticator(),
      hasAdsStream: (nodeId) => cp.ledger.hasOpenStream(nodeId),
    });
    cp = createControlPlane(config);
    cp.grpc.serve(lrs);
    const { port } = await cp.start();
    envoy = await startEnvoy({ xdsPort: port, mode: 'sotw', nodeId: 'envoy-lrs' });
  });

  afterAll(async () => {
    await envoy?.stop();
    lrs?.stop();
    await cp?.stop();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  it('per-endpoint successes and errors of real traffic arrive within a few report intervals', async () => {
    await waitFor(() => lrs.streams() === 1, { timeoutMs: 10_000, what: 'Envoy to open an LRS stream' });
    const [ok1, ok2, bad] = backends as [Backend, Backend, Backend];
    // Envoy routes to all three (two answer 200, one 503) before we count.
    let sent = 0;
    await waitFor(
      async () => {
        const s = await shares(url, 30);
        sent += s.total;
        return s.counts[ok1.name] && s.counts[ok2.name] && s.statuses['503'];
      },
      { timeoutMs: 10_000, what: 'Envoy to route to all three backends' },
    );
    const traffic = await shares(url, 300, { concurrency: 6 });
    sent += traffic.total;
    expect(traffic.statuses['network']).toBeUndefined();
    const served = ok1.requests + ok2.requests + bad.requests;
    expect(served).toBe(sent);

    const t0 = Date.now();
    // Everything Envoy forwarded shows up in the reports: no request is lost or counted twice.
    const seen = await waitFor(
      () => {
        const t = totals();
        const demo = [...t].filter(([k]) => k.startsWith('demo/'));
        return demo.reduce((n, [, v]) => n + v.successes + v.errors, 0) === sent && t;
      },
      { timeoutMs: REPORT_INTERVAL_MS * 8, intervalMs: 50, what: `load reports covering all ${sent} requests` },
    );
    console.log(
      `[lrs] ${samples.length} samples, all ${sent} requests reported ${Date.now() - t0} ms after the traffic ended; totals ${JSON.stringify(Object.fromEntries(seen))}`,
    );

    for (const b of [ok1, ok2]) {
      expect(seen.get(key(b))).toMatchObject({ successes: b.requests, errors: 0 });
      expect(seen.get(key(b))!.successes).toBeGreaterThan(0);
    }
    expect(seen.get(key(bad))).toMatchObject({ successes: 0, errors: bad.requests });
    expect(seen.get(key(bad))!.errors).toBeGreaterThan(0);

    const demoSamples = samples.filter((s) => s.key.startsWith('demo/'));
    for (const { sample, nodeId } of demoSamples) {
      expect(nodeId).toBe('envoy-lrs');
      expect(sample.successes + sample.errors).toBeGreaterThan(0);
      // Envoy measures the interval itself; the first one of a stream can be shorter.
      expect(sample.intervalMs).toBeGreaterThan(0);
      expect(sample.intervalMs).toBeLessThan(REPORT_INTERVAL_MS * 4);
    }
  });
});
