import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { TYPE } from '../../src/xds/protos.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.js';
import { freePort } from '../support/net.js';
import { recordTimeline, shareStep, step, type Step, type Timeline } from '../support/timeline.js';
import { shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';

/** A real Envoy, fed by healthmesh over ADS, in both protocol variants. */
describe.each(['sotw', 'delta'] as const)('Envoy over ADS (%s)', (mode) => {
  let backends: Backend[];
  let cp: ControlPlane;
  let envoy: EnvoyHandle;
  let listenerPort: number;
  let url: string;
  let config: Readonly<Config>;
  let timeline: Timeline;

  const hosts = async (): Promise<number[]> => (await envoy.clusterHosts('demo')).map((h) => h.port).sort();

  beforeAll(async () => {
    backends = await startHttpBackends(3);
    listenerPort = await freePort();
    url = `http://127.0.0.1:${listenerPort}/`;
    config = validateConfig({
      xds: { listen: '127.0.0.1:0', debounceMs: 20 },
      listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
      routes: [{ name: 'local_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: 'demo' }] }] }],
      clusters: [{ name: 'demo', endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })) }],
    });
    cp = createControlPlane(config);
    timeline = recordTimeline({ cache: cp.cache, ledger: cp.ledger });
    const { port } = await cp.start();
    envoy = await startEnvoy({ xdsPort: port, mode, nodeId: `envoy-${mode}` });
  });

  afterAll(async () => {
    timeline?.stop();
    await envoy?.stop();
    await cp?.stop();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  it('routes HTTP to all three backends with even shares and ACKs every resource type', async () => {
    await waitFor(async () => (await shares(url, 30)).errors === 0, { timeoutMs: 10_000, what: 'Envoy to route' });
    const s = await shares(url, 600, { concurrency: 6 });
    expect(s.errors).toBe(0);
    for (const b of backends) expect(Math.abs(s.share(b.name) - 1 / 3)).toBeLessThan(0.08);

    const proxy = await waitFor(
      () =>
        cp.ledger
          .proxies()
          .find((p) => p.nodeId === `envoy-${mode}` && Object.keys(p.types).length === 4 && Object.values(p.types).every((t) => t.ackedVersion)),
      { timeoutMs: 15_000, what: 'all four types ACKed' },
    );
    expect(proxy.protocol).toBe(mode);
    expect(Object.values(proxy.types).every((t) => !t.lastNack)).toBe(true);

    const dump = await envoy.configDump();
    const snap = cp.cache.current()!;
    const section = (suffix: string) => dump.configs.find((c: { '@type': string }) => c['@type'].endsWith(`.${suffix}`));
    const cluster = section('ClustersConfigDump').dynamic_active_clusters.find((c: { cluster: { name: string } }) => c.cluster.name === 'demo');
    const listener = section('ListenersConfigDump').dynamic_listeners.find((l: { name: string }) => l.name === 'ingress');
    const route = section('RoutesConfigDump').dynamic_route_configs.find((r: { route_config: { name: string } }) => r.route_config.name === 'local_route');
    if (mode === 'sotw') {
      expect(cluster.version_info).toBe(snap.types[TYPE.cluster].version);
      expect(listener.active_state.version_info).toBe(snap.types[TYPE.listener].version);
      expect(route.version_info).toBe(snap.types[TYPE.route].version);
    } else {
      expect(cluster.version_info).toBe(snap.types[TYPE.cluster].resources.get('demo')!.version);
      expect(listener.active_state.version_info).toBe(snap.types[TYPE.listener].resources.get('ingress')!.version);
      expect(route.version_info).toBe(snap.types[TYPE.route].resources.get('local_route')!.version);
    }
    const eds = section('EndpointsConfigDump').dynamic_endpoint_configs.find(
      (e: { endpoint_config: { cluster_name: string } }) => e.endpoint_config.cluster_name === 'demo',
    );
    expect(eds.endpoint_config.endpoints.flatMap((l: { lb_endpoints: unknown[] }) => l.lb_endpoints)).toHaveLength(3);
  });

  it('follows an endpoint removal and re-addition: EDS version, then its ACK, then the traffic', async () => {
    const gone = backends[0]!;
    const key = `demo/127.0.0.1:${gone.port}`;
    // In order: the EDS version without it → Envoy's ACK of it → Envoy's hosts without it → no share. One outer deadline.
    const removed = timeline.mark(key, 'removed');
    cp.topology.removeEndpoint('demo', '127.0.0.1', gone.port);
    const [removedEds, removedAck] = await timeline.waitForOrder(key, [step('eds-removed', { what: 'an EDS version without it' }), step('ack')] as Step[], {
      after: removed,
      timeoutMs: 10_000,
      what: 'the removal published and ACKed',
    });
    await waitFor(async () => !(await hosts()).includes(gone.port), { timeoutMs: 15_000, what: 'Envoy to drop the endpoint' });
    const s = await shares(url, 150, { concurrency: 5 });
    timeline.mark(key, 'share', s.share(gone.name));
    timeline.expectOrder(key, [step('eds-removed'), step('ack'), shareStep('no share', (v) => v === 0)] as Step[], removed);
    expect(s.counts[gone.name]).toBeUndefined();
    expect(s.errors).toBe(0);

    const added = timeline.mark(key, 'added back');
    cp.topology.setEndpoint('demo', { address: '127.0.0.1', port: gone.port });
    const [, addedAck] = await timeline.waitForOrder(key, [step('eds', { what: 'an EDS version with it' }), step('ack')] as Step[], {
      after: added,
      timeoutMs: 10_000,
      what: 'the addition published and ACKed',
    });
    await waitFor(async () => (await hosts()).includes(gone.port), { timeoutMs: 15_000, what: 'Envoy to add the endpoint back' });
    console.log(
      `[${mode}] endpoint removal ACKed in ${removedAck!.t - removed.t} ms, addition in ${addedAck!.t - added.t} ms (EDS ${removedEds!.kind === 'eds-removed' ? removedEds!.version : ''})`,
    );
    const back = await waitFor(
      async () => {
        const share = (await shares(url, 60)).share(gone.name);
        return share > 0 ? timeline.mark(key, 'share', share) : undefined;
      },
      { timeoutMs: 15_000, what: 'traffic to the re-added endpoint' },
    );
    timeline.expectOrder(key, [step('eds'), step('ack'), shareStep('traffic again', (v) => v > 0)] as Step[], added);
    expect(back.seq).toBeGreaterThan(addedAck!.seq);
  });

  it('carries health status: an UNHEALTHY endpoint gets no traffic', async () => {
    const sick = backends[1]!;
    cp.topology.setEndpoint('demo', { address: '127.0.0.1', port: sick.port, health: 'UNHEALTHY' });
    await waitFor(async () => (await envoy.clusterHosts('demo')).find((h) => h.port === sick.port)?.health.includes('UNHEALTHY'), {
      timeoutMs: 15_000,
      what: 'Envoy to see the endpoint UNHEALTHY',
    });
    const s = await shares(url, 300, { concurrency: 5 });
    expect(s.counts[sick.name]).toBeUndefined();
    cp.topology.setEndpoint('demo', { address: '127.0.0.1', port: sick.port, health: 'HEALTHY' });
    await waitFor(async () => (await shares(url, 60)).counts[sick.name], { timeoutMs: 15_000, what: 'traffic back to the healed endpoint' });
  });

  it('a listener Envoy cannot bind is NACKed with its error text; the last good config keeps serving', async () => {
    const squatter: Server = createServer();
    const busyPort = await new Promise<number>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as { port: number }).port)));
    try {
      const bad = structuredClone(config) as { listeners: object[] };
      bad.listeners.push({ name: 'clash', kind: 'tcp', address: '127.0.0.1', port: busyPort, routeConfig: 'local_route' });
      cp.reload(validateConfig(bad));
      const nack = await waitFor(() => cp.ledger.proxies().find((p) => p.nodeId === `envoy-${mode}`)?.types[TYPE.listener]?.lastNack, {
        timeoutMs: 15_000,
        what: 'a NACK for the listener',
      });
      expect(nack.message).toMatch(/clash|bind|address already in use/i);
      expect(nack.resources).toContain('clash');
      const s = await shares(url, 150, { concurrency: 5 });
      expect(s.errors).toBe(0);
      expect(Object.keys(s.counts)).toHaveLength(3);
    } finally {
      cp.reload(config);
      squatter.close();
    }
    // Back to a config Envoy accepts: the listener type is ACKed again.
    await waitFor(
      () => {
        const t = cp.ledger.proxies().find((p) => p.nodeId === `envoy-${mode}`)?.types[TYPE.listener];
        return t && t.ackedVersion === t.sentVersion;
      },
      { timeoutMs: 15_000, what: 'the reverted listeners to be ACKed' },
    );
  });
});
