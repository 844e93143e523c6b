// Scenario 17 (issue 12) with real processes: three `healthmesh serve` replicas on a real etcd, real
// Envoys fed by different replicas (bootstraps rendered from envoy/bootstrap-ads-replicated.yaml).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { TEST_TOKENS } from '../support/auth.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { startTraffic } from '../support/traffic.js';
import { startEnvoy, type EnvoyHandle, type HostStatus } from '../support/envoy.js';
import { etcdTestClient, testPrefix, useEtcd } from '../support/etcd.js';
import { freePort, restartablePort } from '../support/net.js';
import { startServeChild, type ServeChild } from '../support/serve-child.js';
import { loopStall } from '../support/stall.js';
import { waitFor } from '../support/wait.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const etcd = useEtcd();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Obj = Record<string, unknown>;

/** The shipped replicated bootstrap with its healthmesh_xds endpoints replaced by `ports`. */
function bootstrap(ports: number[], nodeId: string): Obj {
  const text = readFileSync(join(ROOT, 'envoy', 'bootstrap-ads-replicated.yaml'), 'utf8').replaceAll('${HEALTHMESH_PROXY_TOKEN}', TEST_TOKENS.proxy);
  const boot = parseYaml(text) as Obj;
  (boot.node as Obj).id = nodeId;
  const clusters = (boot.static_resources as Obj).clusters as Obj[];
  const xds = clusters.find((c) => c.name === 'healthmesh_xds')!;
  const groups = (xds.load_assignment as Obj).endpoints as Obj[];
  expect(((groups[0]!.lb_endpoints as unknown[]) ?? []).length).toBe(3); // the shipped file lists three replicas
  groups[0]!.lb_endpoints = ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }));
  return boot;
}

/** Port of the replica an Envoy's ADS connection is open to (cx_active of healthmesh_xds hosts). */
async function connectedTo(envoy: EnvoyHandle): Promise<number | undefined> {
  const text = await (await fetch(`${envoy.adminUrl}/clusters`)).text();
  for (const line of text.split('\n')) {
    const m = /^healthmesh_xds::127\.0\.0\.1:(\d+)::cx_active::(\d+)$/.exec(line.trim());
    if (m && Number(m[2]) > 0) return Number(m[1]);
  }
  return undefined;
}

/** What an Envoy accepted: CDS version_info of cluster `web` and the hash Envoy keeps of the last EDS version_info of `web`. */
async function edsVersion(envoy: EnvoyHandle): Promise<string | undefined> {
  const dump = (await envoy.configDump()) as { configs: Array<{ dynamic_active_clusters?: Array<{ version_info?: string; cluster?: { name?: string } }> }> };
  let cds: string | undefined;
  for (const c of dump.configs) for (const e of c.dynamic_active_clusters ?? []) if (e.cluster?.name === 'web') cds = e.version_info;
  const eds = (await envoy.stats()).get('cluster.web.version');
  return cds === undefined || !eds ? undefined : `${cds} eds#${eds}`;
}

const view = (hosts: HostStatus[]): string =>
  hosts
    .map((h) => `${h.port}:${h.health[0]}/${h.weight}`)
    .sort()
    .join(' ');

describe('replicas with real Envoys (kill -9, etcd)', () => {
  let backends: Backend[];
  let dir: string;
  const replicas: Array<{ child: ServeChild | undefined; port: number; config: string; id: string }> = [];
  let envoyA: EnvoyHandle;
  let envoyB: EnvoyHandle;
  let url: string;
  let prefix: string;

  beforeAll(async () => {
    backends = await startHttpBackends(4);
    dir = mkdtempSync(join(tmpdir(), 'healthmesh-replicas-'));
    const listenerPort = await freePort();
    url = `http://127.0.0.1:${listenerPort}/`;
    prefix = testPrefix();
    for (let i = 0; i < 3; i++) {
      const port = await restartablePort();
      const config = join(dir, `r${i}.yaml`);
      writeFileSync(
        config,
        stringify({
          xds: { listen: `127.0.0.1:${port}`, debounceMs: 20 },
          log: { level: 'info' },
          store: { path: join(dir, `r${i}.db`) },
          admin: { enabled: false },
          replication: {
            etcd: { endpoints: [etcd().endpoint], requestTimeoutMs: 1000, keepaliveMs: 1000 },
            keyPrefix: prefix,
            leaseTtlSeconds: 2,
            replicaId: `r${i}`,
            advertisedAddress: `127.0.0.1:${port}`,
          },
          health: { circuit: { baseOpenMs: 1000, probationSuccesses: 2 }, recovery: { windowMs: 4000, steps: 4 } },
          listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
          routes: [{ name: 'local_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: 'web' }] }] }],
          clusters: [
            {
              name: 'web',
              healthCheck: { check: { http: { path: '/healthz' } }, intervalMs: 300, timeoutMs: 300, healthyThreshold: 1, unhealthyThreshold: 2 },
              endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })),
            },
          ],
        }),
      );
      replicas.push({ child: await startServeChild(config), port, config, id: `r${i}` });
    }
    // A on replica 0 only; B on replicas 1 and 2 (never the same replica as A).
    envoyA = await startEnvoy({ bootstrap: bootstrap([replicas[0]!.port], 'envoy-a') });
    envoyB = await startEnvoy({ bootstrap: bootstrap([replicas[1]!.port, replicas[2]!.port], 'envoy-b') });
  }, 120_000);

  afterAll(async () => {
    await envoyA?.stop();
    await envoyB?.stop();
    for (const r of replicas) await r.child?.kill9();
    await Promise.all((backends ?? []).map((b) => b.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two Envoys on different replicas see identical endpoints, and both drain a failing backend', async () => {
    const healthy = (h: HostStatus[]) => h.length === 4 && h.every((x) => x.health[0] === 'HEALTHY');
    await waitFor(async () => healthy(await envoyA.clusterHosts('web')) && healthy(await envoyB.clusterHosts('web')), {
      timeoutMs: 30_000,
      what: 'both Envoys see 4 HEALTHY',
    });
    expect(await connectedTo(envoyA)).toBe(replicas[0]!.port);
    expect([replicas[1]!.port, replicas[2]!.port]).toContain(await connectedTo(envoyB));
    // Same EDS version on both (content-derived, not a replica's clock).
    await waitFor(
      async () => {
        const [a, b] = [await edsVersion(envoyA), await edsVersion(envoyB)];
        if (a === undefined || a !== b || !a.startsWith('c-')) throw new Error(`EDS version_info A=${a} B=${b}`);
        return true;
      },
      { timeoutMs: 15_000, what: 'identical EDS version_info on both Envoys' },
    );

    const bad = backends[0]!;
    bad.setHealthStatus(503);
    const failedAt = performance.now();
    const drained = (h: HostStatus[]) => h.find((x) => x.port === bad.port)?.health[0] === 'UNHEALTHY';
    const times: number[] = [];
    await Promise.all(
      [envoyA, envoyB].map(async (e) => {
        await waitFor(async () => drained(await e.clusterHosts('web')), { timeoutMs: 15_000, intervalMs: 25, what: 'the failing backend drained' });
        times.push(performance.now() - failedAt);
      }),
    );
    // Same content on both (health and weight per host).
    await waitFor(
      async () =>
        view(await envoyA.clusterHosts('web')) === view(await envoyB.clusterHosts('web')) && (await edsVersion(envoyA)) === (await edsVersion(envoyB)),
      { timeoutMs: 15_000, what: 'identical endpoints and EDS version on both Envoys' },
    );
    console.log(`[replicas e2e] failing backend drained by both Envoys after ${times.map((t) => t.toFixed(0)).join(' / ')} ms`);
    bad.setHealthStatus(200);
  }, 60_000);

  it('kill -9 of the replica an Envoy is on: it is on another replica within 2 s, zero failed requests', async () => {
    await waitFor(async () => (await envoyB.clusterHosts('web')).every((x) => x.health[0] === 'HEALTHY' && x.weight === 100), {
      timeoutMs: 30_000,
      what: 'all back to full weight',
    });
    const on = (await connectedTo(envoyB))!;
    const victim = replicas.find((r) => r.port === on)!;
    const other = replicas.find((r) => r !== victim && r !== replicas[0])!;
    const traffic = startTraffic(url);
    const tally = traffic.tally;
    await waitFor(() => tally.ok >= 20, { timeoutMs: 10_000, what: 'traffic flowing before the kill' });
    const before = await envoyB.stats();
    const stall = loopStall();
    const killedAt = performance.now();
    await victim.child!.kill9();
    victim.child = undefined;
    await waitFor(async () => (await connectedTo(envoyB)) === other.port && (await envoyB.stats()).get('control_plane.connected_state') === 1, {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: 'Envoy B on the other replica',
    });
    const reconnectMs = performance.now() - killedAt;
    const stalled = await stall.maxMs();
    stall.stop();
    // A change after the move reaches B through its new replica (the positive marker for what follows).
    const bad = backends[1]!;
    bad.setHealthStatus(503);
    await waitFor(async () => (await envoyB.clusterHosts('web')).find((x) => x.port === bad.port)?.health[0] === 'UNHEALTHY', {
      timeoutMs: 15_000,
      intervalMs: 25,
      what: 'B drains after the move',
    });
    // Identical versions: up to that change, what B got from its new replica is what it had (no cluster re-warm,
    // nothing rejected, no empty EDS); a health change modifies no cluster either.
    const after = await envoyB.stats();
    const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    const figures = [
      'cluster_manager.cds.update_success',
      'cluster_manager.cds.update_rejected',
      'cluster.web.update_success',
      'cluster.web.update_empty',
      'cluster_manager.cluster_modified',
    ].map((k) => `${k}+${delta(k)}`);
    expect(delta('cluster_manager.cluster_modified')).toBe(0);
    expect(delta('cluster_manager.cds.update_rejected')).toBe(0);
    expect(delta('cluster.web.update_empty')).toBe(0);
    bad.setHealthStatus(200);
    await traffic.stop();
    console.log(
      `[replicas e2e] kill -9 of Envoy B's replica: on the other replica after ${reconnectMs.toFixed(0)} ms; requests ok ${tally.ok}, failed ${tally.errors}; B after the move: ${figures.join(', ')}`,
    );
    expect(tally.errors).toBe(0);
    expect(tally.ok).toBeGreaterThan(50);
    // Within 2 s, plus whatever this process's event loop stalled meanwhile (a starved machine delays Envoy's
    // retry and the replicas' answers alike); an Envoy left waiting for a TTL or a long backoff misses it.
    expect(reconnectMs, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThan(2000 + stalled);
  }, 90_000);

  it('kill -9 of the replica that owns a backend mid-ramp: the ramp continues on the new owner, no weight jump, zero failed requests', async () => {
    const client = etcdTestClient(etcd());
    try {
      const live = replicas.filter((r) => r.child);
      expect(live).toHaveLength(2);
      const b = backends[2]!;
      const key = `web/127.0.0.1:${b.port}`;
      const holder = async () => JSON.parse((await client.get(`${prefix}/owners/${key}`).string()) ?? 'null') as string | null;
      await waitFor(
        async () => {
          const id = await holder();
          return live.some((r) => r.id === id);
        },
        { timeoutMs: 10_000, what: 'a live replica holds the claim' },
      );
      const holderId = await holder();
      const owner = live.find((r) => r.id === holderId)!;
      // Watch through the Envoy that is not on the owner.
      const observer = (await connectedTo(envoyA)) === owner.port ? envoyB : envoyA;
      expect(await connectedTo(observer)).not.toBe(owner.port);
      const weight = async () => {
        const h = (await observer.clusterHosts('web')).find((x) => x.port === b.port);
        return h?.health[0] === 'HEALTHY' ? h.weight : 0;
      };
      await waitFor(async () => (await weight()) === 100, { timeoutMs: 30_000, what: 'backend at full weight' });

      const traffic = startTraffic(url);
      const tally = traffic.tally;
      b.setHealthStatus(503);
      b.setStatus(503);
      await waitFor(async () => (await weight()) === 0, { timeoutMs: 15_000, intervalMs: 25, what: 'ejected' });
      b.setHealthStatus(200);
      b.setStatus(200);
      // Mid-ramp (ramp of 4 steps over 4 s): at least one step in, not yet full.
      await waitFor(
        async () => {
          const w = await weight();
          return w >= 25 && w < 75;
        },
        { timeoutMs: 15_000, intervalMs: 20, what: 'mid-ramp' },
      );
      const samples: number[] = [await weight()];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push(await weight());
          await sleep(25);
        }
      })();
      // Requests failed while the backend itself failed are not the point: count from the kill on.
      const atKill = { ...tally };
      const killedAt = performance.now();
      await owner.child!.kill9();
      owner.child = undefined;
      await waitFor(async () => (await weight()) === 100, { timeoutMs: 20_000, intervalMs: 25, what: 'the ramp completes on the new owner' });
      const rampDoneMs = performance.now() - killedAt;
      sampling = false;
      await sampler;
      await traffic.stop();
      for (let i = 1; i < samples.length; i++) {
        expect(samples[i]!, `weights ${samples.join(',')}`).toBeGreaterThanOrEqual(samples[i - 1]!);
        expect(samples[i]! - samples[i - 1]!, `weights ${samples.join(',')}`).toBeLessThanOrEqual(25);
      }
      console.log(
        `[replicas e2e] kill -9 of the owner mid-ramp (weight ${samples[0]}): ramp completed ${rampDoneMs.toFixed(0)} ms later; distinct weights seen ${[...new Set(samples)].join('→')}; requests since the kill ok ${tally.ok - atKill.ok}, failed ${tally.errors - atKill.errors}`,
      );
      expect(tally.errors - atKill.errors).toBe(0);
      expect(tally.ok - atKill.ok).toBeGreaterThan(50);
    } finally {
      client.close();
    }
  }, 120_000);
  it('etcd stopped for 10 s and restarted: both Envoys keep routing with zero failed requests, no empty push, no flip-flop, convergence after', async () => {
    const stat = async (e: EnvoyHandle, name: string): Promise<number> => (await e.stats()).get(name) ?? 0;
    const views = async (): Promise<[string, string]> => [view(await envoyA.clusterHosts('web')), view(await envoyB.clusterHosts('web'))];
    // The replicas killed above come back (Envoy A has only one), so both Envoys are on a live replica.
    for (const r of replicas) if (!r.child) r.child = await startServeChild(r.config);
    await waitFor(
      async () => {
        const [a, b] = await views();
        return a === b && !a.includes('UNHEALTHY') && a.split(' ').length === 4;
      },
      { timeoutMs: 30_000, what: `both Envoys on the same four serving hosts (${(await views()).join(' / ')})` },
    );
    const before = await views();
    const emptyBefore = [await stat(envoyA, 'cluster.web.update_empty'), await stat(envoyB, 'cluster.web.update_empty')];
    const traffic = startTraffic(url);
    const tally = traffic.tally;
    const seen = new Set<string>();
    await etcd().kill();
    const downAt = performance.now();
    while (performance.now() - downAt < 10_000) {
      const [a, b] = await views();
      seen.add(a);
      seen.add(b);
      await sleep(200);
    }
    await etcd().restart();
    // After etcd returns, a change made through one replica reaches both Envoys again.
    const b0 = backends[0]!;
    b0.setHealthStatus(503);
    await waitFor(
      async () => {
        const [a, b] = await views();
        return a === b && a.includes(`${b0.port}:UNHEALTHY`);
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'both Envoys drain a failing backend after etcd returned' },
    );
    const convergedMs = performance.now() - downAt - 10_000;
    b0.setHealthStatus(200);
    await traffic.stop();
    console.log(
      `[replicas e2e] etcd down 10 s: views during the outage ${[...seen].length} (${[...seen].join(' | ')}); requests ok ${tally.ok}, failed ${tally.errors}; a later failure drained by both Envoys ${convergedMs.toFixed(0)} ms after etcd returned`,
    );
    // No flip-flop: while etcd was down both Envoys kept exactly what they had.
    expect([...seen]).toEqual([before[0]]);
    expect(tally.errors).toBe(0);
    expect(tally.ok).toBeGreaterThan(50);
    expect([await stat(envoyA, 'cluster.web.update_empty'), await stat(envoyB, 'cluster.web.update_empty')]).toEqual(emptyBefore);
  }, 120_000);
});
