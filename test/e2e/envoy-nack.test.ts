import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { TYPE } from '../../src/xds/protos.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.js';
import { freePort } from '../support/net.js';
import { shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';

/**
 * Regression (issue 10, finding 2): an endpoint Envoy rejects (a host name where EDS needs an IP)
 * used to be recorded as delivered when sent, so after an Envoy restart the clusters in the
 * rejected response were never re-sent (0 hosts, 503) even after the bad entry was gone.
 * A NACK now leaves the client at its last ACKed versions: the other cluster in the rejected
 * response is retried on its own and the corrected cluster reaches Envoy.
 */
describe.each(['sotw', 'delta'] as const)('Envoy NACKs an endpoint, then gets the correction (%s)', (mode) => {
  let demo: Backend[];
  let other: Backend[];
  let cp: ControlPlane;
  let envoy: EnvoyHandle;
  let url: string;
  let xdsPort: number;
  const nodeId = `envoy-nack-${mode}`;
  const BAD = { address: 'backend.invalid', port: 8080 };

  const eds = () => cp.ledger.proxies().find((p) => p.nodeId === nodeId)?.types[TYPE.endpoint];
  const hostPorts = async (cluster: string) => (await envoy.clusterHosts(cluster)).map((h) => h.port).sort();

  beforeAll(async () => {
    demo = await startHttpBackends(2, { prefix: 'd' });
    other = await startHttpBackends(1, { prefix: 'o' });
    const listenerPort = await freePort();
    url = `http://127.0.0.1:${listenerPort}`;
    cp = createControlPlane(
      validateConfig({
        xds: { listen: '127.0.0.1:0', debounceMs: 20 },
        listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
        routes: [
          {
            name: 'local_route',
            virtualHosts: [
              {
                name: 'all',
                routes: [
                  { prefix: '/other', cluster: 'other' },
                  { prefix: '/', cluster: 'demo' },
                ],
              },
            ],
          },
        ],
        clusters: [
          { name: 'demo', endpoints: demo.map((b) => ({ address: '127.0.0.1', port: b.port })) },
          { name: 'other', endpoints: other.map((b) => ({ address: '127.0.0.1', port: b.port })) },
        ],
      }),
    );
    xdsPort = (await cp.start()).port;
    envoy = await startEnvoy({ xdsPort, mode, nodeId });
  });

  afterAll(async () => {
    await envoy?.stop();
    await cp?.stop();
    await Promise.all([...(demo ?? []), ...(other ?? [])].map((b) => b.close()));
  });

  it('a rejected endpoint changes nothing in Envoy; traffic keeps flowing', async () => {
    await waitFor(async () => (await shares(`${url}/`, 10)).errors === 0 && (await shares(`${url}/other`, 10)).errors === 0, {
      timeoutMs: 10_000,
      what: 'Envoy to route',
    });
    cp.topology.setEndpoint('demo', BAD);
    const nack = await waitFor(() => eds()?.lastNack, { timeoutMs: 15_000, what: 'the EDS NACK' });
    expect(nack.message).toMatch(/malformed IP address|backend\.invalid/i);
    const s = await shares(`${url}/`, 100, { concurrency: 5 });
    expect(s.errors).toBe(0);
    expect(await hostPorts('demo')).toEqual(demo.map((b) => b.port).sort());
  });

  it('after an Envoy restart with the bad entry in place, the other cluster still gets its endpoints; the correction reaches Envoy', async () => {
    await envoy.stop();
    await waitFor(() => !eds(), { timeoutMs: 15_000, what: 'the old stream closed' });
    // Envoy goes LIVE only after demo's initial fetch times out (it never accepts demo's EDS): do not wait for it.
    envoy = await startEnvoy({ xdsPort, mode, nodeId, readiness: 'admin' });
    await waitFor(() => eds()?.lastNack, { timeoutMs: 10_000, what: 'the new Envoy to NACK the bad endpoint' });
    // The cluster that merely shared the rejected response is retried on its own and serves.
    await waitFor(async () => (await shares(`${url}/other`, 10)).errors === 0, { timeoutMs: 30_000, what: '/other to serve while demo is rejected' });
    expect(eds()?.lastNack?.message).toMatch(/malformed IP address|backend\.invalid/i);

    // The correction: the bad entry goes. demo's endpoints (never ACKed by this Envoy) are sent again.
    cp.topology.removeEndpoint('demo', BAD.address, BAD.port);
    await waitFor(async () => (await hostPorts('demo')).length === demo.length, { timeoutMs: 30_000, what: 'demo endpoints in Envoy' });
    await waitFor(async () => (await shares(`${url}/`, 10)).errors === 0, { timeoutMs: 10_000, what: 'demo to serve' });
    const s = await shares(`${url}/`, 100, { concurrency: 5 });
    expect(s.errors).toBe(0);
    const o = await shares(`${url}/other`, 50, { concurrency: 5 });
    expect(o.errors).toBe(0);
    await waitFor(() => eds()?.ackedVersion !== undefined && eds()?.ackedVersion === eds()?.sentVersion, { timeoutMs: 15_000, what: 'EDS settled' });
  });
});
