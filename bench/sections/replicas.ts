/**
 * replicas section (issue 12, "Bench"): three healthmesh replicas (createHealthmesh in this process, `replication:`
 * configured) on a real etcd (test/support/etcd.ts), N endpoints (default 5,000; --quick 500) in clusters of 100,
 * TCP checks every 5 s against real listening sockets in a forked child (health-targets.ts, loopback 127.77.x.y).
 *
 *  1. writes: after warm-up, etcd writes per second over a window, counted three ways: a watch on the key prefix
 *     (events = keys written, distinct mod_revisions = transactions), the replicas' Replication.counters
 *     (assignments written / batches), and etcd's own /metrics (mvcc puts and txns, raft proposals committed).
 *  2. CPU: this process's CPU over the same window divided by 3 (so it includes the etcd client and watch work of
 *     each replica), probes/s per replica; then a single instance (no replication) with the same endpoints, same
 *     window. etcd's own CPU is read from /proc.
 *  3. propagation: a small extra cluster `zz-prop` (20 endpoints, 500 ms checks, thresholds 1) whose sockets live
 *     in this process; ~20 changes (close a socket → UNHEALTHY, reopen it → HEALTHY). Per change: owner's snapshot
 *     → every replica's snapshot has it, and owner's snapshot → every replica's ADS stream delivered it (one raw
 *     SotW ADS client per replica, test/support/ads-client.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { connectEtcd } from '../../src/replication/client.js';
import { decodeAnyBytes, TYPE } from '../../src/xds/protos.js';
import { endpointKey } from '../../src/core/model.js';
import { AdsTestClient, type Received } from '../../test/support/ads-client.js';
import { startEtcd, type EtcdProcess } from '../../test/support/etcd.js';
import { freePort } from '../../test/support/net.js';
import { dist, fmtMs, sleep, table } from '../lib/stats.js';
import { BENCH_ISOLATION, ChildRpc, cpuMs } from './health-common.js';
import type { Target, TargetStats } from './health-targets.js';
import type { Section, SectionContext, SectionResult } from './types.js';

const REPLICAS = 3;
const PER_CLUSTER = 100;
const INTERVAL_MS = 5000;
const PROP_CLUSTER = 'zz-prop';
const PROP_ENDPOINTS = 20;
const PREFIX = '/hm-bench';

interface Cla {
  endpoints?: Array<{ lb_endpoints?: Array<{ endpoint: { address: { socket_address: { port_value: number } } }; health_status?: string }> }>;
}

/** port → health_status of cluster `zz-prop` in an EDS resource. */
function healthByPort(cla: Cla): Map<number, string> {
  const m = new Map<number, string>();
  for (const loc of cla.endpoints ?? [])
    for (const lb of loc.lb_endpoints ?? []) m.set(lb.endpoint.address.socket_address.port_value, lb.health_status ?? 'UNKNOWN');
  return m;
}

function snapshotHealth(app: Healthmesh): Map<number, string> | undefined {
  const entry = app.controlPlane.cache.current()?.types[TYPE.endpoint]?.resources.get(PROP_CLUSTER);
  return entry ? healthByPort(decodeAnyBytes<Cla>(entry.any)) : undefined;
}

/** Re-listenable sockets on 127.0.0.1 for the propagation cluster: close(i) makes TCP checks fail, open(i) heals. */
async function propTargets(
  n: number,
): Promise<{ ports: number[]; close(i: number): Promise<void>; open(i: number): Promise<void>; closeAll(): Promise<void> }> {
  const servers: Array<Server | undefined> = [];
  const ports: number[] = [];
  const listen = (port: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const s = createServer((sock) => sock.destroy());
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  for (let i = 0; i < n; i++) {
    const s = await listen(0);
    servers.push(s);
    ports.push((s.address() as { port: number }).port);
  }
  const close = async (i: number): Promise<void> => {
    const s = servers[i];
    servers[i] = undefined;
    if (s) await new Promise((r) => s.close(() => r(undefined)));
  };
  return {
    ports,
    close,
    open: async (i) => void (servers[i] = await listen(ports[i]!)),
    closeAll: async () => void (await Promise.all(servers.map((_, i) => close(i)))),
  };
}

function buildConfig(targets: Target[], propPorts: number[], replication?: { id: string; etcd: string; xdsPort: number }): unknown {
  const clusters: unknown[] = [];
  for (let i = 0; i < targets.length; i += PER_CLUSTER) {
    clusters.push({
      name: `rep-c${clusters.length}`,
      healthCheck: { check: { tcp: {} }, intervalMs: INTERVAL_MS, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3 },
      endpoints: targets.slice(i, i + PER_CLUSTER).map((t) => ({ address: t.address, port: t.port })),
    });
  }
  clusters.push({
    name: PROP_CLUSTER,
    healthCheck: { check: { tcp: {} }, intervalMs: 500, timeoutMs: 400, healthyThreshold: 1, unhealthyThreshold: 1 },
    endpoints: propPorts.map((port) => ({ address: '127.0.0.1', port })),
  });
  return {
    ...BENCH_ISOLATION,
    xds: { listen: `127.0.0.1:${replication?.xdsPort ?? 0}` },
    log: { level: 'silent' },
    health: { circuit: { baseOpenMs: 1000, probationSuccesses: 2 }, recovery: { windowMs: 8000, steps: 5 }, warmupTimeoutMs: 3000 },
    ...(replication
      ? {
          replication: {
            etcd: { endpoints: [replication.etcd] },
            keyPrefix: PREFIX,
            replicaId: replication.id,
            advertisedAddress: `127.0.0.1:${replication.xdsPort}`,
          },
        }
      : {}),
    clusters,
  };
}

/** utime + stime of a process in ms (Linux /proc; USER_HZ assumed 100). */
function procCpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

const ETCD_METRICS = ['etcd_mvcc_put_total', 'etcd_mvcc_txn_total', 'etcd_mvcc_delete_total', 'etcd_server_proposals_committed_total'] as const;
async function etcdMetrics(etcd: EtcdProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${etcd.endpoint}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const name of ETCD_METRICS) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    out[name] = m ? Number(m[1]) : NaN;
  }
  return out;
}

/** Counts probes per app; resolves once every endpoint was probed at least once. */
function probeCounter(apps: Healthmesh[], total: number): { counts: number[]; allProbed: () => boolean; off(): void } {
  const counts = apps.map(() => 0);
  const seen = new Set<string>();
  const offs = apps.map((a, i) =>
    a.onProbe((id) => {
      counts[i]!++;
      if (seen.size < total) seen.add(id);
    }),
  );
  return { counts, allProbed: () => seen.size >= total, off: () => offs.forEach((f) => f()) };
}

async function waitUntil(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

interface CpuWindow {
  ms: number;
  cpuMs: number;
  probes: number[];
  etcdCpuMs: number;
  targetCpuMs: number;
}

async function measureCpu(
  apps: Healthmesh[],
  probes: { counts: number[] },
  windowMs: number,
  etcd: EtcdProcess | undefined,
  targetsProc: ChildRpc,
): Promise<CpuWindow> {
  const p0 = [...probes.counts];
  const e0 = procCpuMs(etcd?.pid);
  const t0s = await targetsProc.call<TargetStats>('stats');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(windowMs);
  const cpu = cpuMs(c0);
  const ms = performance.now() - t0;
  const t1s = await targetsProc.call<TargetStats>('stats');
  return { ms, cpuMs: cpu, probes: probes.counts.map((c, i) => c - p0[i]!), etcdCpuMs: procCpuMs(etcd?.pid) - e0, targetCpuMs: t1s.cpuMs - t0s.cpuMs };
}

export const replicasSection: Section = {
  name: 'replicas',
  description: '3 replicas on a real etcd: owner → all replicas propagation (snapshot, ADS), etcd writes/s, probing CPU per replica vs one instance',
  async run(ctx: SectionContext): Promise<SectionResult> {
    const endpoints = ctx.quick ? 500 : 5000;
    const windowMs = ctx.quick ? 15_000 : 30_000;
    const settleMs = ctx.quick ? 5_000 : 10_000;
    const changes = 20;
    const total = endpoints + PROP_ENDPOINTS;
    const cleanups: Array<() => Promise<unknown>> = [];
    const cleanup = async (): Promise<void> => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    };
    try {
      const etcd = await startEtcd();
      cleanups.push(() => etcd.stop());
      const targetsProc = ChildRpc.start(new URL('./health-targets.ts', import.meta.url), { onLog: ctx.log });
      cleanups.push(() => targetsProc.close());
      const targets = await targetsProc.call<Target[]>('listen', { count: endpoints, perAddress: 1000, basePort: 41000 });
      const prop = await propTargets(PROP_ENDPOINTS);
      cleanups.push(() => prop.closeAll());
      ctx.log(`replicas: etcd at ${etcd.endpoint}, ${targets.length} target sockets in a child + ${PROP_ENDPOINTS} propagation sockets here`);

      // ---- three replicas
      const firstStartAt = performance.now();
      const apps: Healthmesh[] = [];
      const xdsPorts: number[] = [];
      for (let i = 0; i < REPLICAS; i++) {
        const xdsPort = await freePort();
        const app = createHealthmesh(
          validateConfig(buildConfig(targets, prop.ports, { id: `r${i}`, etcd: etcd.endpoint, xdsPort }), 'bench/sections/replicas.ts'),
        );
        cleanups.push(() => app.stop());
        xdsPorts.push((await app.start()).xdsPort);
        apps.push(app);
      }
      await waitUntil(() => apps.every((a) => a.replication!.liveIds().length === REPLICAS), 20_000, 'every replica sees 3 live');
      const probes = probeCounter(apps, total);
      cleanups.push(async () => probes.off());
      const startedAt = performance.now();
      await waitUntil(probes.allProbed, 120_000, 'every endpoint probed once');
      ctx.log(`replicas: every endpoint probed once after ${((performance.now() - startedAt) / 1000).toFixed(1)} s; settling ${settleMs / 1000} s`);
      await sleep(settleMs);

      // ---- writes (watch + counters + etcd metrics) and CPU over one window
      const watchClient = connectEtcd({ endpoints: [etcd.endpoint], requestTimeoutMs: 2000, keepaliveMs: 5000 });
      cleanups.push(async () => watchClient.close());
      const byCategory = new Map<string, { keys: number; revs: Set<string> }>();
      const allRevs = new Set<string>();
      const perKey = new Map<string, number>();
      const watcher = await watchClient.watch().prefix(`${PREFIX}/`).create();
      cleanups.push(() => watcher.cancel());
      let counting = false;
      const onEvent = (kind: string) => (kv: { key: Buffer; mod_revision: string }) => {
        if (!counting) return;
        const key = kv.key.toString();
        if (key.includes(PROP_CLUSTER)) return; // the fast propagation cluster is not part of the 5 s load
        const cat = `${key.slice(PREFIX.length + 1).split('/')[0]} ${kind}`;
        const c = byCategory.get(cat) ?? { keys: 0, revs: new Set<string>() };
        c.keys++;
        c.revs.add(kv.mod_revision);
        byCategory.set(cat, c);
        allRevs.add(kv.mod_revision);
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
      };
      watcher.on('put', onEvent('put'));
      watcher.on('delete', onEvent('delete'));
      const counters0 = apps.map((a) => ({ ...a.replication!.counters }));
      const metrics0 = await etcdMetrics(etcd);
      const warmupSecs = (performance.now() - firstStartAt) / 1000;
      const warmWritten = counters0.reduce((a, c) => a + c.written, 0);
      const warmBatches = counters0.reduce((a, c) => a + c.batches, 0);
      counting = true;
      ctx.log(`replicas: measuring etcd writes and CPU for ${windowMs / 1000} s`);
      const cpu3 = await measureCpu(apps, probes, windowMs, etcd, targetsProc);
      counting = false;
      const metrics1 = await etcdMetrics(etcd);
      const secs = cpu3.ms / 1000;
      const written = apps.reduce((s, a, i) => s + a.replication!.counters.written - counters0[i]!.written, 0);
      const batches = apps.reduce((s, a, i) => s + a.replication!.counters.batches - counters0[i]!.batches, 0);
      const watchKeys = [...byCategory.values()].reduce((s, c) => s + c.keys, 0);
      const metricRate = (n: string): number => (metrics1[n]! - metrics0[n]!) / secs;

      // ---- propagation: owner's decision → every replica's snapshot and ADS stream
      const want: { port: number; health: string; snapAt: Array<number | undefined>; adsAt: Array<number | undefined> } = {
        port: -1,
        health: '',
        snapAt: [],
        adsAt: [],
      };
      const unsub = apps.map((a, i) =>
        a.controlPlane.cache.subscribe(() => {
          if (want.port < 0 || want.snapAt[i] !== undefined) return;
          if (snapshotHealth(a)?.get(want.port) === want.health) want.snapAt[i] = performance.now();
        }),
      );
      cleanups.push(async () => unsub.forEach((f) => f()));
      xdsPorts.forEach((port, i) => {
        const c = new AdsTestClient(port, 'sotw');
        cleanups.push(async () => c.close());
        c.send({ node: { id: `bench-replica-${i}`, cluster: 'bench' }, type_url: TYPE.endpoint, resource_names: [PROP_CLUSTER] });
        let stopped = false;
        cleanups.push(async () => void (stopped = true));
        void (async () => {
          while (!stopped) {
            let r: Received;
            try {
              r = await c.next(TYPE.endpoint, 60_000);
            } catch {
              continue;
            }
            const at = performance.now();
            c.ack(r, { resource_names: [PROP_CLUSTER] });
            const res = r.resources.find((x) => x.name === PROP_CLUSTER);
            if (res && want.port >= 0 && want.adsAt[i] === undefined && healthByPort(res.message as Cla).get(want.port) === want.health) want.adsAt[i] = at;
          }
        })();
      });
      const snapLag: number[] = [];
      const adsLag: number[] = [];
      const ownerAdsLag: number[] = [];
      const detect: number[] = [];
      // All HEALTHY everywhere first.
      await waitUntil(() => apps.every((a) => prop.ports.every((p) => snapshotHealth(a)?.get(p) === 'HEALTHY')), 30_000, 'zz-prop HEALTHY on every replica');
      ctx.log(`replicas: propagation, ${changes} changes (close a socket / reopen it)`);
      for (let k = 0; k < changes; k++) {
        const idx = Math.floor(k / 2) % PROP_ENDPOINTS;
        const port = prop.ports[idx]!;
        const key = endpointKey(PROP_CLUSTER, '127.0.0.1', port);
        const owner = apps.findIndex((a) => a.engine.isOwned(key));
        const fail = k % 2 === 0;
        want.port = -1;
        want.health = fail ? 'UNHEALTHY' : 'HEALTHY';
        want.snapAt = apps.map(() => undefined);
        want.adsAt = apps.map(() => undefined);
        want.port = port;
        const t0 = performance.now();
        if (fail) await prop.close(idx);
        else await prop.open(idx);
        await waitUntil(
          () => want.snapAt.every((t) => t !== undefined) && want.adsAt.every((t) => t !== undefined),
          30_000,
          `change ${k} (${want.health}) on every replica and ADS stream`,
        ).catch((err: Error) => {
          const seen = apps.map(
            (a, i) =>
              `r${i}: snapshot ${snapshotHealth(a)?.get(port)} (at ${want.snapAt[i]?.toFixed(0)}), ADS at ${want.adsAt[i]?.toFixed(0)}, decision ${JSON.stringify(a.engine.published(key)?.decision ?? null)}`,
          );
          throw new Error(`${err.message}; owner r${owner}; ${seen.join('; ')}`);
        });
        const o = want.snapAt[owner]!;
        detect.push(o - t0);
        snapLag.push(Math.max(...want.snapAt.map((t) => t! - o)));
        adsLag.push(Math.max(...want.adsAt.map((t) => t! - o)));
        ownerAdsLag.push(want.adsAt[owner]! - o);
        ctx.log(
          `replicas: change ${k + 1}/${changes} ${want.health} (owner r${owner}): snapshots +${snapLag.at(-1)!.toFixed(1)} ms, ADS +${adsLag.at(-1)!.toFixed(1)} ms`,
        );
        await sleep(200);
      }
      want.port = -1;
      await cleanup();

      // ---- one instance, same endpoints, no replication
      ctx.log(`replicas: single instance with the same ${total} endpoints`);
      const targetsProc2 = ChildRpc.start(new URL('./health-targets.ts', import.meta.url), { onLog: ctx.log });
      cleanups.push(() => targetsProc2.close());
      const targets2 = await targetsProc2.call<Target[]>('listen', { count: endpoints, perAddress: 1000, basePort: 41000 });
      const prop2 = await propTargets(PROP_ENDPOINTS);
      cleanups.push(() => prop2.closeAll());
      const single = createHealthmesh(validateConfig(buildConfig(targets2, prop2.ports), 'bench/sections/replicas.ts'));
      cleanups.push(() => single.stop());
      await single.start();
      const probes1 = probeCounter([single], total);
      cleanups.push(async () => probes1.off());
      await waitUntil(probes1.allProbed, 120_000, 'single: every endpoint probed once');
      await sleep(settleMs);
      const cpu1 = await measureCpu([single], probes1, windowMs, undefined, targetsProc2);
      await cleanup();

      // ---- report
      const pct = (ms: number, wms: number): string => `${((ms / wms) * 100).toFixed(1)} %`;
      const writesTable = table(
        [['etcd writes (window ' + secs.toFixed(0) + ' s, zz-prop keys excluded from the watch)', 'per s']],
        [
          [`warm-up (${warmupSecs.toFixed(0)} s from the first start): assignments written / batches (counters), total`, `${warmWritten} / ${warmBatches}`],
          ['warm-up: etcd mvcc puts since etcd start (claims, replicas, assignments), total', String(metrics0.etcd_mvcc_put_total)],
          ['write revisions (transactions or single puts; distinct mod_revisions of a prefix watch)', (allRevs.size / secs).toFixed(1)],
          ['keys written (watch events)', (watchKeys / secs).toFixed(1)],
          ['distinct keys written in the window, total', String(perKey.size)],
          ...[...byCategory.entries()]
            .sort()
            .map(([cat, c]) => [`  ${cat}: keys / txns`, `${(c.keys / secs).toFixed(1)} / ${(c.revs.size / secs).toFixed(1)}`]),
          ['Replication.counters: assignments written (3 replicas)', (written / secs).toFixed(1)],
          ['Replication.counters: batches (3 replicas)', (batches / secs).toFixed(1)],
          ['etcd /metrics: mvcc puts (all keys, incl. zz-prop)', metricRate('etcd_mvcc_put_total').toFixed(1)],
          ['etcd /metrics: mvcc txns', metricRate('etcd_mvcc_txn_total').toFixed(1)],
          ['etcd /metrics: raft proposals committed', metricRate('etcd_server_proposals_committed_total').toFixed(1)],
        ],
      );
      const probesPerSec = (w: CpuWindow): string => w.probes.map((p) => (p / (w.ms / 1000)).toFixed(0)).join(' / ');
      const cpuTable = table(
        [['CPU over the window (% of one core)', '3 replicas', 'single instance']],
        [
          ['healthmesh process (all replicas in it)', pct(cpu3.cpuMs, cpu3.ms), pct(cpu1.cpuMs, cpu1.ms)],
          ['per replica (process ÷ 3)', pct(cpu3.cpuMs / REPLICAS, cpu3.ms), pct(cpu1.cpuMs, cpu1.ms)],
          ['probes/s (per replica)', probesPerSec(cpu3), probesPerSec(cpu1)],
          ['etcd process', pct(cpu3.etcdCpuMs, cpu3.ms), '-'],
          ['targets child', pct(cpu3.targetCpuMs, cpu3.ms), pct(cpu1.targetCpuMs, cpu1.ms)],
        ],
      );
      const row = (label: string, v: number[]): string[] => {
        const d = dist(v);
        return [label, fmtMs(d.p50), fmtMs(d.p99), fmtMs(d.max)];
      };
      const propTable = table(
        [['propagation (' + changes + ' changes)', 'p50', 'p99', 'max']],
        [
          row("socket closed/reopened → owner's snapshot", detect),
          row("owner's snapshot → every replica's snapshot", snapLag),
          row("owner's snapshot → owner's ADS stream", ownerAdsLag),
          row("owner's snapshot → every replica's ADS stream", adsLag),
        ],
      );
      return {
        table: `${REPLICAS} replicas, real etcd, ${endpoints} endpoints (TCP, every ${INTERVAL_MS / 1000} s) + ${PROP_ENDPOINTS} in ${PROP_CLUSTER} (500 ms)\n${propTable}\n\n${writesTable}\n\n${cpuTable}`,
        data: {
          endpoints,
          windowMs,
          propagation: { detect, snapLag, ownerAdsLag, adsLag },
          warmup: { secs: warmupSecs, written: warmWritten, batches: warmBatches },
          writes: {
            secs,
            txns: allRevs.size,
            keys: watchKeys,
            topKeys: [...perKey].sort((a, b) => b[1] - a[1]).slice(0, 10),
            byCategory: Object.fromEntries([...byCategory].map(([k, c]) => [k, { keys: c.keys, txns: c.revs.size }])),
            written,
            batches,
            etcdMetrics: { before: metrics0, after: metrics1 },
          },
          cpu: { replicas: cpu3, single: cpu1 },
        },
        ok: true,
      };
    } finally {
      await cleanup();
    }
  },
};
