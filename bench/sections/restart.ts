/**
 * restart section: how long a `kill -9`ed healthmesh with N endpoints (default 1,000 in 10 clusters, TCP checks
 * against real listening sockets) takes to serve again, and how long until a real Envoy has the restarted
 * process's endpoints. Per trial: kill -9, spawn `healthmesh serve`, then
 *   - restore + first snapshot: healthmesh's own log ("state restored; first snapshot published", ms since start()),
 *   - spawn → ready: process start to the xDS server listening (Node + tsx start-up included),
 *   - ready → Envoy on ADS: Envoy's control_plane.connected_state back to 1,
 *   - ready → Envoy ACK: every cluster's EDS update from the new process accepted by Envoy.
 */
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startEnvoy } from '../../test/support/envoy.js';
import { freePort } from '../../test/support/net.js';
import { startServeChild, type ServeChild } from '../../test/support/serve-child.js';
import { dist, fmtMs, sleep, table } from '../lib/stats.js';
import type { Section, SectionContext, SectionResult } from './types.js';

async function listenMany(n: number): Promise<{ ports: number[]; close(): Promise<void> }> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer((sock) => sock.destroy());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    servers.push(s);
    ports.push((s.address() as { port: number }).port);
  }
  return { ports, close: async () => void (await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))))) };
}

async function waitUntil(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return Date.now();
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

export const restartSection: Section = {
  name: 'restart',
  description: 'kill -9 and restart with 1,000 endpoints: restore + first snapshot, ready, Envoy back on ADS, Envoy ACK',
  async run(ctx: SectionContext): Promise<SectionResult> {
    const endpoints = ctx.quick ? 200 : 1000;
    const clusters = 10;
    const trials = ctx.quick ? 3 : 5;
    const targets = await listenMany(endpoints);
    const dir = mkdtempSync(join(tmpdir(), 'healthmesh-bench-restart-'));
    const xdsPort = await freePort();
    const configFile = join(dir, 'healthmesh.yaml');
    const per = endpoints / clusters;
    writeFileSync(
      configFile,
      stringify({
        xds: { listen: `127.0.0.1:${xdsPort}` },
        log: { level: 'info' },
        store: { path: join(dir, 'healthmesh.db') },
        admin: { enabled: false },
        listeners: [{ name: 'ingress', port: await freePort(), routeConfig: 'r' }],
        routes: [{ name: 'r', virtualHosts: [{ name: 'all', routes: Array.from({ length: clusters }, (_, c) => ({ prefix: `/c${c}`, cluster: `c${c}` })) }] }],
        clusters: Array.from({ length: clusters }, (_, c) => ({
          name: `c${c}`,
          healthCheck: { check: { tcp: {} }, intervalMs: 5000, timeoutMs: 1000 },
          endpoints: targets.ports.slice(c * per, (c + 1) * per).map((port) => ({ address: '127.0.0.1', port })),
        })),
      }),
    );
    ctx.log(`restart: first start with ${endpoints} endpoints (cold: every endpoint warms up with its first check)`);
    let child: ServeChild | undefined = await startServeChild(configFile, { timeoutMs: 120_000 });
    const envoy = await startEnvoy({ xdsPort, mode: 'sotw', nodeId: 'bench-restart' });
    const rows: Record<string, number[]> = { restore: [], spawnToReady: [], readyToAds: [], readyToAck: [], killToAck: [] };
    const stat = async (name: string): Promise<number> => (await envoy.stats()).get(name) ?? 0;
    const edsUpdates = async (): Promise<number> => {
      const s = await envoy.stats();
      let n = 0;
      for (let c = 0; c < clusters; c++) n += (s.get(`cluster.c${c}.update_success`) ?? 0) + (s.get(`cluster.c${c}.update_no_rebuild`) ?? 0);
      return n;
    };
    try {
      await waitUntil(async () => (await stat('control_plane.connected_state')) === 1 && (await edsUpdates()) >= clusters, 60_000, 'Envoy synced');
      await sleep(1500);
      for (let t = 0; t < trials; t++) {
        const before = await edsUpdates();
        const killAt = Date.now();
        await child.kill9();
        const spawnAt = Date.now();
        child = await startServeChild(configFile, { timeoutMs: 120_000 });
        const readyAt = child.readyAt;
        const adsAt = await waitUntil(async () => (await stat('control_plane.connected_state')) === 1, 30_000, 'Envoy reconnected');
        const ackAt = await waitUntil(async () => (await edsUpdates()) >= before + clusters, 30_000, 'Envoy ACKed every cluster from the new process');
        const m = /"ms":(\d+)[^\n]*state restored; first snapshot published|state restored; first snapshot published[^\n]*"ms":(\d+)/.exec(child.log());
        rows.restore!.push(Number(m?.[1] ?? m?.[2] ?? NaN));
        rows.spawnToReady!.push(readyAt - spawnAt);
        rows.readyToAds!.push(adsAt - readyAt);
        rows.readyToAck!.push(ackAt - readyAt);
        rows.killToAck!.push(ackAt - killAt);
        ctx.log(
          `restart: trial ${t + 1}/${trials}: ready ${readyAt - spawnAt} ms after spawn, Envoy on ADS +${adsAt - readyAt} ms, ACK +${ackAt - readyAt} ms`,
        );
        await sleep(1000);
      }
    } finally {
      await child?.kill9();
      await envoy.stop();
      await targets.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const label: Record<string, string> = {
      restore: 'restore assignment + first snapshot (in process)',
      spawnToReady: 'spawn → xDS listening (incl. Node/tsx start-up)',
      readyToAds: 'ready → Envoy back on an ADS stream',
      readyToAck: 'ready → Envoy ACKed every cluster (EDS)',
      killToAck: 'kill -9 → Envoy ACKed the restarted process',
    };
    const out = Object.entries(rows).map(([k, v]) => {
      const d = dist(v);
      return [label[k]!, fmtMs(d.p50), fmtMs(d.max)];
    });
    return {
      table: `restart with ${endpoints} endpoints in ${clusters} clusters, ${trials} trials, real Envoy (SotW)\n` + table([['', 'p50', 'max']], out),
      data: { endpoints, clusters, trials, rows },
      ok: true,
    };
  },
};
