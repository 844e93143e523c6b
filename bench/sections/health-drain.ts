/**
 * health-drain section: how fast does traffic leave a backend whose health check starts failing, and come back when
 * it heals? healthmesh (probes → engine → EDS → Envoy) against Envoy's own active health checking, in the same run,
 * with the same interval / timeout / thresholds and no jitter.
 *
 * Three sides run side by side, each with its own 3 HTTP backends, its own real Envoy and its own steady request
 * stream (backends and streams live in a forked process, health-drain-worker.ts):
 *   - healthmesh: Envoy from envoy/bootstrap-ads-sotw.yaml fed by healthmesh, alone in a forked process
 *     (health-drain-healthmesh.ts), HTTP check /healthz;
 *   - envoy: a static bootstrap, STATIC cluster with `health_checks` (http /healthz) and 503 listed in
 *     `retriable_statuses`, so that unhealthy_threshold applies to it as it does in healthmesh;
 *   - envoy-default: the same without `retriable_statuses`, i.e. Envoy's default, where any non-expected status
 *     (a 503) marks the host unhealthy at once, ignoring unhealthy_threshold.
 * Per trial, one backend (the same on every side) answers /healthz with 503 from t0; we record when each Envoy's
 * admin /clusters shows it unhealthy, when the last request reached it, and when its share of the last 100
 * responses fell below 2%; then it answers 200 again from t1 and we record the way back.
 */
import { endpointKey } from '../../src/core/model.js';
import { startEnvoy, type EnvoyHandle, type HostStatus } from '../../test/support/envoy.js';
import { freePort } from '../../test/support/net.js';
import { dist, fmtMs, hostInfo, sleep, table, type Dist } from '../lib/stats.js';
import { ChildRpc, wallNow } from './health-common.js';
import type { HmTrace } from './health-drain-healthmesh.js';
import type { CheckRecord, ResponseRecord } from './health-drain-worker.js';
import type { Section, SectionContext, SectionResult } from './types.js';

type SideKey = 'healthmesh' | 'envoy' | 'envoy-default';
const SIDES: ReadonlyArray<{ key: SideKey; label: string }> = [
  { key: 'healthmesh', label: 'healthmesh' },
  { key: 'envoy', label: 'Envoy HC' },
  { key: 'envoy-default', label: 'Envoy HC, default' },
];

interface Settings {
  trials: number;
  backends: number;
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  /** Request stream per side (requests per second, at most this many in flight). */
  rps: number;
  maxInFlight: number;
  /** Sliding window of responses, and the shares that count as drained / fully back. */
  window: number;
  drainedShare: number;
  fullShare: number;
  adminPollMs: number;
  /** After every side drained: keep the backend failing this long (plus a random part of an interval) before restoring it. */
  holdMs: number;
  /** After every side recovered: wait this long before the next trial. */
  settleMs: number;
  drainTimeoutMs: number;
  recoverTimeoutMs: number;
  xdsDebounceMs: number;
  engineTickMs: number;
}

function settings(quick: boolean): Settings {
  return {
    trials: quick ? 1 : 6,
    backends: 3,
    intervalMs: 1000,
    timeoutMs: 500,
    unhealthyThreshold: 3,
    healthyThreshold: 2,
    rps: 200,
    maxInFlight: 20,
    window: 100,
    drainedShare: 0.02,
    fullShare: 0.3,
    adminPollMs: 50,
    holdMs: 500,
    settleMs: 1000,
    drainTimeoutMs: 15_000,
    recoverTimeoutMs: 20_000,
    xdsDebounceMs: 50,
    engineTickMs: 250,
  };
}

// ---- configuration of the three sides

const HM_CLUSTER = 'drain';
const NATIVE_CLUSTER = 'native';

/** healthmesh config: the same check as Envoy's; circuit/slow start set so that "healthy again" = 2 passing checks. */
function healthmeshConfig(s: Settings, listenerPort: number, ports: number[]): unknown {
  return {
    xds: { listen: '127.0.0.1:0', debounceMs: s.xdsDebounceMs },
    log: { level: 'silent' },
    health: {
      tickMs: s.engineTickMs,
      // Defaults would hold a tripped endpoint out for 10 s (doubling per repeat trip, flap hold-down after 3 trips)
      // and ramp it over 60 s: by design much slower than Envoy. Here: probation starts on the first passing check
      // (published HEALTHY at 10% weight) and one more passing check closes the circuit at full weight.
      circuit: { baseOpenMs: 0, probationSuccesses: s.healthyThreshold - 1, flapThreshold: 100, flapWindowMs: 1000 },
      recovery: { windowMs: 0 },
    },
    listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'drain_route' }],
    routes: [{ name: 'drain_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: HM_CLUSTER }] }] }],
    clusters: [
      {
        name: HM_CLUSTER,
        healthCheck: {
          check: { http: { path: '/healthz' } },
          intervalMs: s.intervalMs,
          timeoutMs: s.timeoutMs,
          jitterPercent: 0,
          healthyThreshold: s.healthyThreshold,
          unhealthyThreshold: s.unhealthyThreshold,
        },
        endpoints: ports.map((port) => ({ address: '127.0.0.1', port })),
      },
    ],
  };
}

const secs = (ms: number): string => `${ms / 1000}s`;

/** Envoy bootstrap: listener → STATIC cluster with Envoy's active HTTP health checking. */
function nativeBootstrap(s: Settings, nodeId: string, listenerPort: number, ports: number[], retriable503: boolean): object {
  return {
    node: { id: nodeId, cluster: 'healthmesh-bench' },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: listenerPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    codec_type: 'AUTO',
                    route_config: {
                      name: 'local',
                      virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: NATIVE_CLUSTER } }] }],
                    },
                    http_filters: [
                      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: NATIVE_CLUSTER,
          type: 'STATIC',
          connect_timeout: '1s',
          lb_policy: 'ROUND_ROBIN',
          common_lb_config: { healthy_panic_threshold: { value: 0 } },
          load_assignment: {
            cluster_name: NATIVE_CLUSTER,
            endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
          },
          health_checks: [
            {
              timeout: secs(s.timeoutMs),
              interval: secs(s.intervalMs),
              unhealthy_threshold: s.unhealthyThreshold,
              healthy_threshold: s.healthyThreshold,
              no_traffic_interval: secs(s.intervalMs),
              no_traffic_healthy_interval: secs(s.intervalMs),
              unhealthy_interval: secs(s.intervalMs),
              unhealthy_edge_interval: secs(s.intervalMs),
              healthy_edge_interval: secs(s.intervalMs),
              http_health_check: { path: '/healthz', ...(retriable503 ? { retriable_statuses: [{ start: 503, end: 504 }] } : {}) },
            },
          ],
        },
      ],
    },
  };
}

// ---- observation

interface HostView {
  bad: boolean;
  weight: number;
}
/** One change in what an Envoy's admin /clusters says about the hosts (t = when the poll's answer arrived). */
interface AdminObservation {
  t: number;
  hosts: Record<number, HostView>;
}

const BAD_FLAGS = new Set([
  'UNHEALTHY',
  'DRAINING',
  'TIMEOUT',
  'failed_active_health_check',
  'failed_eds_health',
  'failed_outlier_check',
  'pending_dynamic_removal',
]);
const hostView = (h: HostStatus): HostView => ({ bad: h.health.some((x) => BAD_FLAGS.has(x)), weight: h.weight });

class AdminPoller {
  readonly log: AdminObservation[] = [];
  polls = 0;
  errors = 0;
  private running = true;
  private last = '';
  private readonly done: Promise<void>;

  constructor(
    private readonly envoy: EnvoyHandle,
    private readonly cluster: string,
    private readonly everyMs: number,
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = wallNow();
      try {
        const hosts = await this.envoy.clusterHosts(this.cluster);
        const t = wallNow();
        this.polls++;
        const view: Record<number, HostView> = {};
        for (const h of hosts) view[h.port] = hostView(h);
        const key = JSON.stringify(view);
        if (key !== this.last) {
          this.last = key;
          this.log.push({ t, hosts: view });
        }
      } catch {
        this.errors++;
      }
      await sleep(Math.max(0, this.everyMs - (wallNow() - started)));
    }
  }

  /** First change seen after `from` that leaves `port` in a state satisfying `pred` (the log holds changes only). */
  firstAfter(port: number, from: number, pred: (h: HostView) => boolean): number | undefined {
    for (const o of this.log) {
      if (o.t < from) continue;
      const h = o.hosts[port];
      if (h && pred(h)) return o.t;
    }
    return undefined;
  }

  allHealthy(ports: number[]): boolean {
    const lastObs = this.log[this.log.length - 1];
    return !!lastObs && ports.every((p) => lastObs.hosts[p] && !lastObs.hosts[p]!.bad);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

// ---- analysis of one trial on one side

/** Times in ms from the fault (drain) or from the restore (recover); undefined = not observed. */
export interface TrialSide {
  side: SideKey;
  trial: number;
  backend: number;
  port: number;
  t0: number;
  t1?: number;
  drain: {
    adminMs?: number;
    windowMs?: number;
    lastServedMs?: number;
    /** Arrival at the backend of the 1st failing check, and of the one that should trip (threshold-th; 1st for envoy-default). */
    firstFailCheckMs?: number;
    tripCheckMs?: number;
    failingChecksMs: number[];
    /** Requests the backend still served after the window fell below the drained share (until the restore). */
    servedAfterDrained: number;
    /** healthmesh: engine decided UNHEALTHY, snapshot published, Envoy ACKed that EDS version. */
    decidedMs?: number;
    publishedMs?: number;
    ackedMs?: number;
    /** healthmesh: lowest weight published before the ejection (degraded by score first), if any. */
    weightBeforeEject?: number;
  };
  recover: {
    adminMs?: number;
    adminFullWeightMs?: number;
    firstServedMs?: number;
    windowMs?: number;
    firstPassCheckMs?: number;
    secondPassCheckMs?: number;
    decidedMs?: number;
    publishedMs?: number;
    ackedMs?: number;
  };
  /** Non-2xx / network errors in this side's stream between t0 and the end of the recovery. */
  errors: number;
}

function windowCrossing(records: ResponseRecord[], idx: number, from: number, size: number, pred: (count: number) => boolean): number | undefined {
  let count = 0;
  for (let i = 0; i < records.length; i++) {
    if (records[i]!.b === idx) count++;
    if (i >= size && records[i - size]!.b === idx) count--;
    if (i + 1 >= size && records[i]!.t >= from && pred(count)) return records[i]!.t;
  }
  return undefined;
}

const rel = (t: number | undefined, base: number | undefined): number | undefined => (t === undefined || base === undefined ? undefined : t - base);

function analyzeDrain(
  ts: TrialSide,
  s: Settings,
  responses: ResponseRecord[],
  checks: CheckRecord[],
  admin: AdminPoller,
  hm: HmTrace | undefined,
  hmKey: string,
  until: number,
): void {
  const { t0, backend: idx, port } = ts;
  const belowAt = windowCrossing(responses, idx, t0, s.window, (c) => c / s.window < s.drainedShare);
  let lastServed: number | undefined;
  for (const r of responses) if (r.b === idx && r.t >= t0 && r.t <= until) lastServed = r.t;
  const failing = checks.filter((c) => c.b === idx && c.t >= t0 && c.t <= until && c.code !== 200).map((c) => c.t);
  const tripN = ts.side === 'envoy-default' ? 1 : s.unhealthyThreshold;
  ts.drain.windowMs = rel(belowAt, t0);
  ts.drain.lastServedMs = rel(lastServed, t0);
  ts.drain.adminMs = rel(
    admin.firstAfter(port, t0, (h) => h.bad),
    t0,
  );
  ts.drain.failingChecksMs = failing.slice(0, 5).map((t) => t - t0);
  ts.drain.firstFailCheckMs = rel(failing[0], t0);
  ts.drain.tripCheckMs = rel(failing[tripN - 1], t0);
  ts.drain.servedAfterDrained = belowAt === undefined ? 0 : responses.filter((r) => r.b === idx && r.t > belowAt && r.t <= until).length;
  if (hm) {
    const decided = hm.decisions.find((d) => d.key === hmKey && d.t >= t0 && d.health === 'UNHEALTHY');
    const before = hm.decisions.filter((d) => d.key === hmKey && d.t >= t0 && (!decided || d.t < decided.t) && d.health !== 'UNHEALTHY');
    if (before.length) ts.drain.weightBeforeEject = Math.min(...before.map((d) => d.weight));
    const pub = decided && hm.publishes.find((p) => p.t >= decided.t);
    const ack = pub && hm.acks.find((a) => a.version === pub.version && a.t >= pub.t);
    ts.drain.decidedMs = rel(decided?.t, t0);
    ts.drain.publishedMs = rel(pub?.t, t0);
    ts.drain.ackedMs = rel(ack?.t, t0);
  }
}

function analyzeRecover(
  ts: TrialSide,
  s: Settings,
  responses: ResponseRecord[],
  checks: CheckRecord[],
  admin: AdminPoller,
  hm: HmTrace | undefined,
  hmKey: string,
  fullWeight: number | undefined,
): void {
  const t1 = ts.t1!;
  const { backend: idx, port } = ts;
  ts.recover.windowMs = rel(
    windowCrossing(responses, idx, t1, s.window, (c) => c / s.window >= s.fullShare),
    t1,
  );
  ts.recover.firstServedMs = rel(responses.find((r) => r.b === idx && r.t >= t1)?.t, t1);
  ts.recover.adminMs = rel(
    admin.firstAfter(port, t1, (h) => !h.bad),
    t1,
  );
  if (fullWeight !== undefined)
    ts.recover.adminFullWeightMs = rel(
      admin.firstAfter(port, t1, (h) => !h.bad && h.weight >= fullWeight),
      t1,
    );
  const passing = checks.filter((c) => c.b === idx && c.t >= t1 && c.code === 200).map((c) => c.t);
  ts.recover.firstPassCheckMs = rel(passing[0], t1);
  ts.recover.secondPassCheckMs = rel(passing[1], t1);
  if (hm) {
    const closed = hm.decisions.find((d) => d.key === hmKey && d.t >= t1 && d.health === 'HEALTHY' && d.circuit === 'closed');
    const pub = closed && hm.publishes.find((p) => p.t >= closed.t);
    const ack = pub && hm.acks.find((a) => a.version === pub.version && a.t >= pub.t);
    ts.recover.decidedMs = rel(closed?.t, t1);
    ts.recover.publishedMs = rel(pub?.t, t1);
    ts.recover.ackedMs = rel(ack?.t, t1);
  }
}

// ---- the run

interface SideRig {
  key: SideKey;
  label: string;
  envoy: EnvoyHandle;
  cluster: string;
  ports: number[];
  url: string;
  admin: AdminPoller;
  /** Full published weight of a host as Envoy shows it (healthmesh: 100 per unit), for "back at full weight". */
  fullWeight?: number;
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = wallNow() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (wallNow() >= deadline) return false;
    await sleep(everyMs);
  }
}

interface DrainData {
  settings: Settings;
  trials: TrialSide[];
  failures: string[];
  workerStats?: unknown;
  adminPolls: Record<string, { polls: number; errors: number }>;
  envoyVersion?: string;
  workerCpuMs?: number;
  healthmeshCpuMs?: number;
  wallMs?: number;
}

async function runDrain(s: Settings, ctx: SectionContext): Promise<DrainData> {
  const data: DrainData = { settings: s, trials: [], failures: [], adminPolls: {} };
  const log = (m: string): void => ctx.log(`health-drain: ${m}`);
  const worker = ChildRpc.start(new URL('./health-drain-worker.ts', import.meta.url), { onLog: log });
  const hm = ChildRpc.start(new URL('./health-drain-healthmesh.ts', import.meta.url), { onLog: log });
  const cleanup: Array<() => Promise<unknown>> = [() => worker.close(), () => hm.close()];
  const rigs: SideRig[] = [];
  try {
    const ports = await worker.call<Record<SideKey, number[]>>('backends', { groups: Object.fromEntries(SIDES.map((x) => [x.key, s.backends])) });

    // healthmesh (its own process) + its Envoy
    const hmListener = await freePort();
    const { xdsPort } = await hm.call<{ xdsPort: number }>('start', { config: healthmeshConfig(s, hmListener, ports.healthmesh) });
    const hmEnvoy = await startEnvoy({ xdsPort, mode: 'sotw', nodeId: 'bench-drain-healthmesh' });
    cleanup.unshift(() => hmEnvoy.stop());
    rigs.push({
      key: 'healthmesh',
      label: 'healthmesh',
      envoy: hmEnvoy,
      cluster: HM_CLUSTER,
      ports: ports.healthmesh,
      url: `http://127.0.0.1:${hmListener}/`,
      admin: new AdminPoller(hmEnvoy, HM_CLUSTER, s.adminPollMs),
      fullWeight: 100,
    });

    // Envoy's own active health checking, with 503 retriable (threshold applies) and with Envoy's default
    for (const side of ['envoy', 'envoy-default'] as const) {
      const listener = await freePort();
      const envoy = await startEnvoy({
        bootstrap: nativeBootstrap(s, `bench-drain-${side}`, listener, ports[side], side === 'envoy'),
        nodeId: `bench-drain-${side}`,
      });
      cleanup.unshift(() => envoy.stop());
      rigs.push({
        key: side,
        label: side,
        envoy,
        cluster: NATIVE_CLUSTER,
        ports: ports[side],
        url: `http://127.0.0.1:${listener}/`,
        admin: new AdminPoller(envoy, NATIVE_CLUSTER, s.adminPollMs),
      });
    }
    for (const r of rigs) cleanup.unshift(() => r.admin.stop());
    log(`3 Envoys up (healthmesh xDS on 127.0.0.1:${xdsPort}); starting ${s.rps} req/s per side`);
    for (const r of rigs) await worker.call('traffic', { side: r.key, url: r.url, rps: s.rps, maxInFlight: s.maxInFlight });

    const responsesFrom = (side: SideKey, from: number): Promise<ResponseRecord[]> => worker.call<ResponseRecord[]>('responses', { side, from });
    const shareOk = async (r: SideRig): Promise<boolean> => {
      const rec = (await responsesFrom(r.key, wallNow() - 5000)).slice(-s.window);
      return rec.length >= s.window && r.ports.every((_, i) => rec.filter((x) => x.b === i).length >= Math.ceil(s.fullShare * s.window));
    };
    const ready = await waitUntil(async () => {
      for (const r of rigs) if (!r.admin.allHealthy(r.ports) || !(await shareOk(r))) return false;
      return true;
    }, 20_000);
    if (!ready) throw new Error('not every side had all backends healthy with a fair share within 20 s');
    log('every side healthy and balanced');

    const w0 = wallNow();
    const workerCpu0 = (await worker.call<{ cpuMs: number }>('stats')).cpuMs;
    const hmCpu0 = (await hm.call<{ cpuMs: number }>('stats')).cpuMs;
    const traceFrom = (from: number): Promise<HmTrace> => hm.call<HmTrace>('trace', { from });
    for (let trial = 0; trial < s.trials; trial++) {
      const idx = trial % s.backends;
      await sleep(Math.random() * s.intervalMs); // random phase against every prober's schedule
      const t0 = await worker.call<number>('health', { changes: rigs.map((r) => ({ side: r.key, index: idx, code: 503 })) });
      const per = new Map<SideKey, TrialSide>();
      for (const r of rigs)
        per.set(r.key, {
          side: r.key,
          trial,
          backend: idx,
          port: r.ports[idx]!,
          t0,
          drain: { failingChecksMs: [], servedAfterDrained: 0 },
          recover: {},
          errors: 0,
        });
      const hmKey = endpointKey(HM_CLUSTER, '127.0.0.1', ports.healthmesh[idx]!);

      const drained = async (r: SideRig): Promise<boolean> => {
        const ts = per.get(r.key)!;
        const resp = await responsesFrom(r.key, t0 - 5000);
        const checks = await worker.call<CheckRecord[]>('checks', { side: r.key, from: t0 });
        const trace = r.key === 'healthmesh' ? await traceFrom(t0) : undefined;
        analyzeDrain(ts, s, resp, checks, r.admin, trace, hmKey, wallNow());
        return ts.drain.adminMs !== undefined && ts.drain.windowMs !== undefined;
      };
      const allDrained = await waitUntil(async () => (await Promise.all(rigs.map(drained))).every(Boolean), s.drainTimeoutMs);
      if (!allDrained) {
        const late = rigs.filter((r) => per.get(r.key)!.drain.adminMs === undefined || per.get(r.key)!.drain.windowMs === undefined).map((r) => r.key);
        data.failures.push(`trial ${trial}: not drained within ${s.drainTimeoutMs} ms: ${late.join(', ')}`);
        log(`trial ${trial}: not drained within ${s.drainTimeoutMs} ms: ${late.join(', ')}`);
      }
      await sleep(s.holdMs + Math.random() * s.intervalMs); // random phase again for the recovery
      const t1 = await worker.call<number>('health', { changes: rigs.map((r) => ({ side: r.key, index: idx, code: 200 })) });
      // Final drain figures up to the restore (the last request served, requests after "drained").
      for (const r of rigs) {
        const ts = per.get(r.key)!;
        const trace = r.key === 'healthmesh' ? await traceFrom(t0) : undefined;
        analyzeDrain(
          ts,
          s,
          await responsesFrom(r.key, t0 - 5000),
          await worker.call<CheckRecord[]>('checks', { side: r.key, from: t0 }),
          r.admin,
          trace,
          hmKey,
          t1,
        );
        ts.t1 = t1;
      }
      const recovered = async (r: SideRig): Promise<boolean> => {
        const ts = per.get(r.key)!;
        const resp = await responsesFrom(r.key, t1 - 5000);
        const checks = await worker.call<CheckRecord[]>('checks', { side: r.key, from: t1 });
        const trace = r.key === 'healthmesh' ? await traceFrom(t1) : undefined;
        analyzeRecover(ts, s, resp, checks, r.admin, trace, hmKey, r.fullWeight);
        return (
          ts.recover.adminMs !== undefined && ts.recover.windowMs !== undefined && (r.fullWeight === undefined || ts.recover.adminFullWeightMs !== undefined)
        );
      };
      const allRecovered = await waitUntil(async () => (await Promise.all(rigs.map(recovered))).every(Boolean), s.recoverTimeoutMs);
      if (!allRecovered) {
        const late = rigs.filter((r) => per.get(r.key)!.recover.windowMs === undefined).map((r) => r.key);
        data.failures.push(`trial ${trial}: not recovered within ${s.recoverTimeoutMs} ms: ${late.join(', ')}`);
        log(`trial ${trial}: not recovered within ${s.recoverTimeoutMs} ms: ${late.join(', ')}`);
      }
      const end = wallNow();
      for (const r of rigs) {
        const ts = per.get(r.key)!;
        ts.errors = (await responsesFrom(r.key, t0)).filter((x) => x.t <= end && x.b < 0).length;
        data.trials.push(ts);
      }
      const brief = rigs.map((r) => {
        const ts = per.get(r.key)!;
        return `${r.key} admin ${fmtMs(ts.drain.adminMs)} / <2% ${fmtMs(ts.drain.windowMs)} / back ${fmtMs(ts.recover.windowMs)} ms`;
      });
      log(`trial ${trial + 1}/${s.trials} (backend ${idx}): ${brief.join('; ')}`);
      await sleep(s.settleMs);
    }
    data.wallMs = wallNow() - w0;
    data.healthmeshCpuMs = (await hm.call<{ cpuMs: number }>('stats')).cpuMs - hmCpu0;
    const ws = await worker.call<{ cpuMs: number; sides: unknown }>('stats');
    data.workerStats = ws.sides;
    data.workerCpuMs = ws.cpuMs - workerCpu0;
    for (const r of rigs) data.adminPolls[r.key] = { polls: r.admin.polls, errors: r.admin.errors };
    return data;
  } finally {
    for (const c of cleanup) await c().catch(() => undefined);
  }
}

// ---- report

type Pick = (t: TrialSide) => number | undefined;

function summary(trials: TrialSide[], side: SideKey, pick: Pick): Dist {
  return dist(trials.filter((t) => t.side === side).map((t) => pick(t) ?? NaN));
}

function render(d: DrainData): string {
  const s = d.settings;
  const cell = (side: SideKey, pick: Pick): string => {
    const x = summary(d.trials, side, pick);
    const all = d.trials.filter((t) => t.side === side).length;
    if (x.n === 0) return '—';
    return `${fmtMs(x.p50)} / ${fmtMs(x.max)}${x.n < all ? ` (${x.n}/${all})` : ''}`;
  };
  const row = (name: string, pick: Pick, only?: SideKey[]): string[] => [name, ...SIDES.map((x) => (only && !only.includes(x.key) ? '' : cell(x.key, pick)))];
  const trip = (t: TrialSide): number | undefined => t.drain.tripCheckMs;
  const rows: Array<string[] | null> = [
    row('fault → admin shows host unhealthy', (t) => t.drain.adminMs),
    row(`fault → share < ${s.drainedShare * 100}% (last ${s.window} responses) ¹`, (t) => t.drain.windowMs),
    row('fault → last request served by the host', (t) => t.drain.lastServedMs),
    null,
    row('  fault → 1st failing check at the backend', (t) => t.drain.firstFailCheckMs),
    row('  fault → tripping check at the backend ²', trip),
    row('  1st failing → tripping check', (t) => rel(trip(t), t.drain.firstFailCheckMs)),
    row('  tripping check → engine decision', (t) => rel(t.drain.decidedMs, trip(t)), ['healthmesh']),
    row('  engine decision → EDS snapshot published ³', (t) => rel(t.drain.publishedMs, t.drain.decidedMs), ['healthmesh']),
    row('  published → Envoy ACKed the EDS update', (t) => rel(t.drain.ackedMs, t.drain.publishedMs), ['healthmesh']),
    row('  tripping check → admin shows unhealthy ⁴', (t) => rel(t.drain.adminMs, trip(t))),
    row('  tripping check → last request served', (t) => rel(t.drain.lastServedMs, trip(t))),
    null,
    row('restore → admin shows host back in rotation ⁵', (t) => t.recover.adminMs),
    row('restore → admin shows full weight', (t) => t.recover.adminFullWeightMs, ['healthmesh']),
    row('restore → first request served', (t) => t.recover.firstServedMs),
    row(`restore → share ≥ ${s.fullShare * 100}% (last ${s.window} responses)`, (t) => t.recover.windowMs),
    row('  restore → 2nd passing check at the backend', (t) => t.recover.secondPassCheckMs),
    row('  2nd passing check → share ≥ 30%', (t) => rel(t.recover.windowMs, t.recover.secondPassCheckMs)),
    null,
    [
      'requests served after "drained" / errors',
      ...SIDES.map((x) => {
        const ts = d.trials.filter((t) => t.side === x.key);
        return `${ts.reduce((n, t) => n + t.drain.servedAfterDrained, 0)} / ${ts.reduce((n, t) => n + t.errors, 0)}`;
      }),
    ],
  ];
  const hmDegraded = d.trials.filter((t) => t.side === 'healthmesh' && t.drain.weightBeforeEject !== undefined);
  const lines = [
    `Drain and recovery of one failing backend (of ${s.backends}), ${s.trials} trial(s) per side, all sides in the same run at the same moments; cells are p50 / max in ms.`,
    `Same check everywhere: HTTP GET /healthz every ${s.intervalMs} ms, timeout ${s.timeoutMs} ms, unhealthy after ${s.unhealthyThreshold}, healthy after ${s.healthyThreshold}, no jitter; fault = /healthz answers 503 (other paths keep answering 200).`,
    `healthmesh: xDS debounce ${s.xdsDebounceMs} ms, engine tick ${s.engineTickMs} ms, circuit baseOpenMs 0 / probationSuccesses ${s.healthyThreshold - 1} / no slow start (defaults: 10 s open + 60 s ramp), SotW ADS to a real Envoy.`,
    `Envoy HC: STATIC cluster, health_checks with 503 in retriable_statuses (so unhealthy_threshold applies); "default": without it, where Envoy ejects on the first 503.`,
    `Traffic: ${s.rps} req/s per side through its Envoy (keep-alive, round robin); admin /clusters polled every ${s.adminPollMs} ms.`,
    '',
    table([['metric', ...SIDES.map((x) => x.label)]], rows),
    `¹ at ${s.rps} req/s the ${s.window}-response window needs ~${Math.round(((s.window - 1) / s.rps) * 1000)} ms after the host's last request to fall below ${s.drainedShare * 100}%; "last request served" has no such lag.`,
    `² the check whose answer crosses the threshold: the ${s.unhealthyThreshold}rd failing one (Envoy HC default: the 1st); its arrival at the backend, timed by the backend.`,
    `³ includes the xDS debounce (${s.xdsDebounceMs} ms).`,
    `⁴ includes the admin polling granularity (${s.adminPollMs} ms + the poll itself).`,
    `⁵ healthmesh: published HEALTHY at 10% weight (half-open) after the 1st passing check, full weight after the 2nd; Envoy: healthy after the ${s.healthyThreshold}nd.`,
  ];
  if (hmDegraded.length)
    lines.push(
      `healthmesh lowered the failing host's weight before ejecting it (score below degradedBelow) in ${hmDegraded.length} trial(s): min weight ${Math.min(...hmDegraded.map((t) => t.drain.weightBeforeEject!))}.`,
    );
  for (const f of d.failures) lines.push(`!! ${f}`);
  return lines.join('\n');
}

export const healthDrainSection: Section = {
  name: 'health-drain',
  description: 'time for traffic to leave a failing backend and come back: healthmesh vs Envoy active health checking (real Envoys)',
  async run(ctx: SectionContext): Promise<SectionResult> {
    const s = settings(ctx.quick);
    const startedAt = new Date();
    const d = await runDrain(s, ctx);
    const expected = s.trials * SIDES.length;
    const ok = d.failures.length === 0 && d.trials.length === expected;
    const stat = (side: SideKey, pick: Pick): Dist => summary(d.trials, side, pick);
    return {
      ok,
      table: render(d),
      data: {
        section: 'health-drain',
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        host: hostInfo(),
        settings: s,
        summary: Object.fromEntries(
          SIDES.map((x) => [
            x.key,
            {
              drainAdminMs: stat(x.key, (t) => t.drain.adminMs),
              drainWindowMs: stat(x.key, (t) => t.drain.windowMs),
              drainLastServedMs: stat(x.key, (t) => t.drain.lastServedMs),
              tripCheckMs: stat(x.key, (t) => t.drain.tripCheckMs),
              recoverAdminMs: stat(x.key, (t) => t.recover.adminMs),
              recoverFirstServedMs: stat(x.key, (t) => t.recover.firstServedMs),
              recoverWindowMs: stat(x.key, (t) => t.recover.windowMs),
            },
          ]),
        ),
        notes: [
          'All times are wall-clock ms (performance.timeOrigin + now) shared by this process (healthmesh, admin polls) and the worker (backends, traffic).',
          'drain.windowMs: first response after the fault where the host answered < drainedShare of the last `window` responses; recover.windowMs: first one where it answered >= fullShare.',
          'Check times are arrivals at the backend; failingChecksMs lists the first failing checks after the fault.',
          'healthmesh decided/published/acked come from engine events, snapshot publications with an EDS change, and the ledger ACK of that EDS version.',
        ],
        failures: d.failures,
        trials: d.trials,
        adminPolls: d.adminPolls,
        worker: { stats: d.workerStats, cpuMs: d.workerCpuMs },
        healthmeshProcessCpuMs: d.healthmeshCpuMs,
        healthmeshProcess: 'healthmesh runs alone in a forked process (health-drain-healthmesh.ts); polling and analysis happen in the section process',
        trialsWallMs: d.wallMs,
      },
    };
  },
};
