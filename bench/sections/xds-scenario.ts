/**
 * One xDS benchmark scenario (mode, N), run in a fresh process per scenario so that the server's RSS/heap
 * figures are not polluted by earlier scenarios. This process is the server: it creates the control plane
 * in-process with createControlPlane() and forks the load client (bench/ads-load-worker.ts) next to it.
 *
 * Started by bench/sections/xds.ts with `node --expose-gc --import tsx`; it receives `{ mode, n, settings }`
 * over IPC and answers `{ log }` lines and one `{ result }` (or `{ error }`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { now, type HealthStatus, type Mode, type StreamDiagnostic } from '../ads-load.js';
import { RemoteLoadClient, type Summary } from '../ads-load-remote.js';
import { dist, fmtMs, gcAvailable, settledMemory, sleep, type Dist } from '../lib/stats.js';

export const CLUSTERS = 10;
export const ENDPOINTS_PER_CLUSTER = 10;
const BASE_PORT = 20000;
const ROUTE_NAME = 'local_route';
const EDS_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export interface Settings {
  modes: Mode[];
  streams: number[];
  changes: number;
  debounceMs: number;
  /** Streams opened, synced and closed before the measured ones (server and client JIT warm-up). */
  warmupStreams: number;
  streamsPerChannel: number;
  settleMs: number;
  changeTimeoutMs: number;
  openTimeoutMs: number;
}

export interface ChangeRecord {
  i: number;
  cluster: string;
  port: number;
  kind: 'weight' | 'health';
  to: number | HealthStatus;
  /** setEndpoint() call duration. */
  callMs: number;
  /** API call → debounced snapshot published (topology.flushed()). */
  publishMs: number | null;
  /** API call → last stream received it; null if some stream never did. */
  allMs: number | null;
  streamP50Ms: number;
  streamP99Ms: number;
  missing: number;
  /** Bytes / responses received by all streams between the call and the end of the settle period. */
  bytes: number;
  responses: number;
  edsResponses: number;
  serverCpuMs: number;
  /** Load-client process CPU over the same window (if close to the latency, the client is the bottleneck). */
  clientCpuMs: number;
  /** Server-side (ledger): snapshot publication → EDS ACK, over the proxies that ACKed this change's version. */
  publishToAckP50Ms?: number;
  publishToAckP99Ms?: number;
}

export interface ScenarioResult {
  mode: Mode;
  streams: number;
  channels: number;
  ok: boolean;
  error?: string;
  diagnostics?: StreamDiagnostic[];
  serverView?: unknown;
  initialSync?: {
    allMs: number;
    perStreamMs: Dist;
    bytesTotal: number;
    bytesPerStream: number;
    responses: number;
    serverCpuMs: number;
    clientCpuMs: number;
    summary: Summary;
  };
  memory?: {
    rssBefore: number;
    rssAfter: number;
    rssPerStream: number;
    heapUsedBefore: number;
    heapUsedAfter: number;
    heapPerStream: number;
    gc: boolean;
    clientRss: number;
  };
  ledger?: LedgerCheck;
  changes?: {
    attempted: number;
    deliveredToAll: number;
    allStreamsMs: Dist;
    perStreamMs: Dist;
    publishMs: Dist;
    fanoutMs: Dist;
    bytesPerChange: Dist;
    bytesPerChangePerStream: number;
    responsesPerChange: Dist;
    serverCpuMsPerChange: Dist;
    clientCpuMsPerChange: Dist;
    publishToAckMs: Dist;
    perChange: ChangeRecord[];
    failures: Array<{ change: number; missing: number; diagnostics: unknown }>;
  };
  ledgerAfter?: LedgerCheck;
  /** Load-client clock − server clock (ms) and the IPC round trip it was measured with. */
  clock?: { offset: number; rtt: number };
  streamEnds?: Summary['endCodes'];
}

export interface LedgerCheck {
  proxies: number;
  byProtocol: Record<string, number>;
  /** Proxies whose four types all have an ACKed version. */
  allTypesAcked: number;
  nackedTypes: number;
  sampleNack?: unknown;
  serverStreams: number;
}

export function benchConfig(debounceMs: number): Readonly<Config> {
  const clusters = Array.from({ length: CLUSTERS }, (_, c) => ({
    name: `bench-c${c}`,
    endpoints: Array.from({ length: ENDPOINTS_PER_CLUSTER }, (_, e) => ({
      address: '127.0.0.1',
      port: BASE_PORT + c * ENDPOINTS_PER_CLUSTER + e,
      weight: 1,
      health: 'HEALTHY',
    })),
  }));
  return validateConfig(
    {
      xds: { listen: '127.0.0.1:0', debounceMs },
      log: { level: 'silent' },
      listeners: [{ name: 'bench-listener', kind: 'tcp', address: '127.0.0.1', port: 10000, routeConfig: ROUTE_NAME }],
      routes: [
        { name: ROUTE_NAME, virtualHosts: [{ name: 'bench', domains: ['*'], routes: clusters.map((c) => ({ prefix: `/${c.name}`, cluster: c.name })) }] },
      ],
      clusters,
    },
    'bench/sections/xds.ts',
  );
}

function ledgerCheck(cp: ControlPlane): LedgerCheck {
  const proxies = cp.ledger.proxies().filter((p) => p.nodeId.startsWith('bench-'));
  const byProtocol: Record<string, number> = {};
  let allTypesAcked = 0;
  let nackedTypes = 0;
  let sampleNack: unknown;
  for (const p of proxies) {
    byProtocol[p.protocol] = (byProtocol[p.protocol] ?? 0) + 1;
    const types = Object.values(p.types);
    if (types.length >= 4 && types.every((t) => t.ackedVersion)) allTypesAcked++;
    for (const [url, t] of Object.entries(p.types)) {
      if (t.lastNack) {
        nackedTypes++;
        sampleNack ??= { nodeId: p.nodeId, typeUrl: url, nack: t.lastNack };
      }
    }
  }
  return { proxies: proxies.length, byProtocol, allTypesAcked, nackedTypes, sampleNack, serverStreams: cp.xds.streamCount() };
}

/** What the server believes about a few proxies (for failure reports). */
function serverView(cp: ControlPlane, nodeIds?: string[]): unknown {
  const all = cp.ledger.proxies();
  const picked = nodeIds ? all.filter((p) => nodeIds.includes(p.nodeId)) : all.slice(0, 3);
  return { connected: all.length, serverStreams: cp.xds.streamCount(), proxies: picked, recentlyDisconnected: cp.ledger.disconnected().slice(-3) };
}

export async function runScenario(mode: Mode, n: number, s: Settings, log: (msg: string) => void): Promise<ScenarioResult> {
  const res: ScenarioResult = { mode, streams: n, channels: Math.ceil(n / s.streamsPerChannel), ok: false };
  const config = benchConfig(s.debounceMs);
  const cp = createControlPlane(config);
  const { port } = await cp.start();
  const client = await RemoteLoadClient.start();
  try {
    // Warm-up (JIT, first connections): a few streams of the same mode, synced then closed, not measured.
    const warm = await client.warmup(
      { address: `127.0.0.1:${port}`, mode, streams: s.warmupStreams, streamsPerChannel: s.streamsPerChannel, routeNames: [ROUTE_NAME] },
      s.openTimeoutMs,
    );
    if (!warm.ok) log(`xds: ${mode} N=${n}: warm-up streams did not sync: ${warm.error}`);
    await sleep(200);
    const mem0 = await settledMemory();
    const cpu0 = process.cpuUsage();
    log(`xds: ${mode} N=${n}: opening streams to 127.0.0.1:${port}`);
    const open = await client.open(
      { address: `127.0.0.1:${port}`, mode, streams: n, streamsPerChannel: s.streamsPerChannel, routeNames: [ROUTE_NAME] },
      s.openTimeoutMs,
    );
    const cpuSync = process.cpuUsage(cpu0);
    res.channels = open.channels;
    if (!open.ok) {
      res.error = open.error;
      res.diagnostics = open.diagnostics;
      res.serverView = serverView(
        cp,
        open.diagnostics?.map((d) => d.nodeId),
      );
      res.initialSync = {
        allMs: NaN,
        perStreamMs: dist(open.syncDurations.filter((d): d is number => d !== null)),
        bytesTotal: NaN,
        bytesPerStream: NaN,
        responses: NaN,
        serverCpuMs: (cpuSync.user + cpuSync.system) / 1000,
        clientCpuMs: open.clientCpuMs,
        summary: open.summary,
      };
      log(`xds: ${mode} N=${n}: FAILED to sync: ${open.error}`);
      return res;
    }
    const c0 = await client.counters();
    res.initialSync = {
      allMs: open.syncedAt - open.startedAt,
      perStreamMs: dist(open.syncDurations.filter((d): d is number => d !== null)),
      bytesTotal: c0.bytes,
      bytesPerStream: c0.bytes / n,
      responses: c0.responses,
      serverCpuMs: (cpuSync.user + cpuSync.system) / 1000,
      clientCpuMs: open.clientCpuMs,
      summary: open.summary,
    };
    log(`xds: ${mode} N=${n}: synced in ${fmtMs(res.initialSync.allMs)} ms; running ${s.changes} changes`);
    await sleep(s.settleMs);
    const mem1 = await settledMemory();
    const clientMem = await client.memory();
    res.memory = {
      rssBefore: mem0.rss,
      rssAfter: mem1.rss,
      rssPerStream: (mem1.rss - mem0.rss) / n,
      heapUsedBefore: mem0.heapUsed,
      heapUsedAfter: mem1.heapUsed,
      heapPerStream: (mem1.heapUsed - mem0.heapUsed) / n,
      gc: gcAvailable,
      clientRss: clientMem.rss,
    };
    res.ledger = ledgerCheck(cp);
    res.clock = await client.calibrate();

    // ---- one-endpoint changes
    const state = new Map<string, { weight: number; health: 'HEALTHY' | 'UNHEALTHY' }>();
    const perChange: ChangeRecord[] = [];
    const failures: NonNullable<ScenarioResult['changes']>['failures'] = [];
    const perStream: number[] = [];
    let consecutiveFailures = 0;
    for (let i = 0; i < s.changes; i++) {
      const c = i % CLUSTERS;
      const e = (i + 3 * Math.floor(i / CLUSTERS)) % ENDPOINTS_PER_CLUSTER;
      const cluster = `bench-c${c}`;
      const epPort = BASE_PORT + c * ENDPOINTS_PER_CLUSTER + e;
      const key = `${cluster}:${epPort}`;
      const cur = state.get(key) ?? { weight: 1, health: 'HEALTHY' as const };
      const kind: ChangeRecord['kind'] = i % 2 === 0 ? 'weight' : 'health';
      const next =
        kind === 'weight'
          ? { ...cur, weight: cur.weight === 1 ? 2 : 1 }
          : { ...cur, health: cur.health === 'HEALTHY' ? ('UNHEALTHY' as const) : ('HEALTHY' as const) };
      state.set(key, next);

      const before = await client.counters();
      const { result } = await client.waitForEndpoint(
        { cluster, port: epPort, address: '127.0.0.1', weight: next.weight, health: next.health },
        s.changeTimeoutMs,
      );
      const cpuA = process.cpuUsage();
      const wallT0 = Date.now();
      const t0 = now();
      cp.topology.setEndpoint(cluster, { address: '127.0.0.1', port: epPort, weight: next.weight, health: next.health });
      const callMs = now() - t0;
      let publishedAt: number | null = null;
      void cp.topology.flushed().then(() => {
        publishedAt = now();
      });
      const r = await result;
      await sleep(s.settleMs);
      const cpu = process.cpuUsage(cpuA);
      const after = await client.counters();

      const lat = r.arrivals.map((a) => (a === null ? NaN : client.toParentTime(a) - t0));
      const got = lat.filter((x) => Number.isFinite(x));
      perStream.push(...got);
      const d = dist(got);
      // Server-side view: publish → ACK of the EDS version that carried this change.
      const acks: number[] = [];
      for (const p of cp.ledger.proxies()) {
        const t = p.types[EDS_TYPE];
        if (p.nodeId.startsWith('bench-') && t?.publishToAckMs !== undefined && t.ackedAt !== undefined && t.ackedAt >= wallT0) acks.push(t.publishToAckMs);
      }
      const ackD = dist(acks);
      const rec: ChangeRecord = {
        i,
        cluster,
        port: epPort,
        kind,
        to: kind === 'weight' ? next.weight : next.health,
        callMs,
        publishMs: publishedAt === null ? null : publishedAt - t0,
        allMs: r.missing === 0 ? d.max : null,
        streamP50Ms: d.p50,
        streamP99Ms: d.p99,
        missing: r.missing,
        bytes: after.bytes - before.bytes,
        responses: after.responses - before.responses,
        edsResponses: (after.byType.EDS?.responses ?? 0) - (before.byType.EDS?.responses ?? 0),
        serverCpuMs: (cpu.user + cpu.system) / 1000,
        clientCpuMs: after.clientCpuMs - before.clientCpuMs,
        ...(acks.length ? { publishToAckP50Ms: ackD.p50, publishToAckP99Ms: ackD.p99 } : {}),
      };
      perChange.push(rec);
      if (r.missing > 0) {
        const missed = r.arrivals.flatMap((a, idx) => (a === null ? [idx] : [])).slice(0, 3);
        const diagnostics = await client.inspect(missed, cluster);
        failures.push({
          change: i,
          missing: r.missing,
          diagnostics: {
            expected: { cluster, port: epPort, ...next },
            streams: diagnostics,
            server: serverView(
              cp,
              missed.map((m) => `bench-${m}`),
            ),
          },
        });
        log(`xds: ${mode} N=${n}: change ${i} (${cluster}:${epPort} ${kind}) reached ${r.matched}/${n} streams within ${s.changeTimeoutMs} ms`);
        if (++consecutiveFailures >= 2) {
          log(`xds: ${mode} N=${n}: two changes in a row not delivered; skipping the remaining changes`);
          break;
        }
      } else {
        consecutiveFailures = 0;
      }
    }
    const delivered = perChange.filter((c) => c.missing === 0);
    res.changes = {
      attempted: perChange.length,
      deliveredToAll: delivered.length,
      allStreamsMs: dist(delivered.map((c) => c.allMs ?? NaN)),
      perStreamMs: dist(perStream),
      publishMs: dist(perChange.map((c) => c.publishMs ?? NaN)),
      fanoutMs: dist(delivered.map((c) => (c.allMs ?? NaN) - (c.publishMs ?? NaN))),
      bytesPerChange: dist(perChange.map((c) => c.bytes)),
      bytesPerChangePerStream: dist(perChange.map((c) => c.bytes)).mean / n,
      responsesPerChange: dist(perChange.map((c) => c.responses)),
      serverCpuMsPerChange: dist(perChange.map((c) => c.serverCpuMs)),
      clientCpuMsPerChange: dist(perChange.map((c) => c.clientCpuMs)),
      publishToAckMs: dist(perChange.flatMap((c) => (c.publishToAckP50Ms === undefined ? [] : [c.publishToAckP50Ms]))),
      perChange,
      failures,
    };
    res.ledgerAfter = ledgerCheck(cp);
    res.streamEnds = (await client.summary()).endCodes;
    res.ok = delivered.length === s.changes && res.ledgerAfter.nackedTypes === 0 && Object.keys(res.streamEnds).length === 0;
    return res;
  } finally {
    await client.close();
    await cp.stop();
  }
}

// ---- child-process entry

interface StartMessage {
  mode: Mode;
  n: number;
  settings: Settings;
}

if (process.send && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const send = (m: unknown): void => {
    process.send?.(m);
  };
  process.on('disconnect', () => process.exit(1)); // the orchestrator went away
  process.once('message', (m: StartMessage) => {
    runScenario(m.mode, m.n, m.settings, (msg) => send({ log: msg }))
      .then(
        (result) => send({ result }),
        (err: unknown) => send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      )
      .finally(() => {
        process.removeAllListeners('disconnect');
        process.disconnect?.();
        setTimeout(() => process.exit(0), 200).unref();
      });
  });
}
