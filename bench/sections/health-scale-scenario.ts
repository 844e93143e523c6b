/**
 * One health-scale scenario (check kind, N endpoints), in a fresh `node --expose-gc --import tsx` process so that
 * memory per endpoint is not polluted by earlier scenarios. This process is healthmesh: createHealthmesh() with N
 * endpoints in N/100 clusters, all actively checked; the targets live in a forked child (health-targets.ts).
 *
 * Started by health-scale.ts; receives `{ scenario }` over IPC and answers `{ log }` lines and one `{ result }`
 * (or `{ error }`).
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { BENCH_ISOLATION } from './health-common.js';
import { createHealthmesh } from '../../src/app.js';
import type { SchedulerStats } from '../../src/checks/scheduler.js';
import { validateConfig } from '../../src/config/load.js';
import { endpointKey } from '../../src/core/model.js';
import { TYPE } from '../../src/xds/protos.js';
import { diffSnapshots } from '../../src/xds/snapshot.js';
import { dist, gcAvailable, settledMemory, sleep, type Dist } from '../lib/stats.js';
import { ChildRpc, isMain, wallNow } from './health-common.js';
import type { Target, TargetStats } from './health-targets.js';

export interface ScaleScenario {
  check: 'http' | 'tcp';
  endpoints: number;
  endpointsPerCluster: number;
  intervalMs: number;
  timeoutMs: number;
  jitterPercent: number;
  probeConcurrency: number;
  tickMs: number;
  /** Warm-up ends once every endpoint was probed and the probe queue stayed empty for one interval, within these bounds. */
  minWarmupMs: number;
  maxWarmupMs: number;
  measureMs: number;
  /** Targets: this many ports per loopback address 127.77.x.y, from basePort up. */
  portsPerAddress: number;
  basePort: number;
  /** Log the per-second timeline while running. */
  verbose?: boolean;
}

export interface TimelinePoint {
  phase: 'start' | 'window';
  /** ms since start() */
  t: number;
  probes: number;
  queued: number;
  inFlight: number;
  maxLastLagMs: number;
  eldMaxMs: number;
  cpuMs: number;
}

export interface ScaleResult {
  scenario: ScaleScenario;
  ok: boolean;
  error?: string;
  clusters: number;
  /** os.loadavg() when the scenario started and when its window ended (other work on the host skews every figure). */
  loadAvg?: number[];
  loadAvgEnd?: number[];
  startup?: { bindTargetsMs: number; validateConfigMs: number; createMs: number; startMs: number };
  window?: {
    ms: number;
    probes: number;
    probesPerSec: number;
    expectedPerSec: number;
    failed: number;
    timedOut: number;
    failureSamples: Record<string, number>;
    probeLatencyMs: Dist;
    /** Over the window: runs late by more than 10% of the interval / runs started. */
    lateRuns: number;
    runsStarted: number;
    skipped: number;
    /** Scheduler's all-time max (includes the start). */
    maxLagMsAllTime: number;
    /** Every job's lastLagMs sampled once a second during the window, pooled. */
    lagSampleMs: Dist;
    /** Per job: its max lag since the start. */
    perJobMaxLagMs: Dist;
    maxQueued: number;
    maxInFlight: number;
    cpuMs: number;
    cpuPercentOfCore: number;
    userPercentOfCore: number;
    systemPercentOfCore: number;
    eventLoopUtilization: number;
    eventLoopDelayMs: { p50: number; p99: number; max: number };
    targetCpuPercentOfCore: number;
    targetRequests: number;
    targetConnections: number;
    targetOpenSockets: number;
    /** Engine work: time inside engine.onProbe (per probe) and engine.tick (the periodic full pass). */
    engineOnProbeUsPerProbe: number;
    engineOnProbeMsTotal: number;
    engineTickMs: Dist;
    engineTickCount: number;
    engineTickPercentOfCore: number;
    /** Snapshots published with a changed EDS resource, and EDS resources changed, during the window. */
    edsPushes: number;
    edsResourcesChanged: number;
  };
  /** From start() until the queue has been empty for one interval: the first probe of every endpoint. */
  firstRound?: {
    allProbedOnceAfterMs: number;
    peakQueued: number;
    /** Last time the queue was not empty, after start(). */
    backlogClearedAfterMs: number;
    maxLagMs: number;
    lateRuns: number;
    skipped: number;
    failed: number;
    cpuPercentOfCoreFirstInterval: number;
    warmupMs: number;
    /** false: the warm-up hit maxWarmupMs with a backlog still there. */
    steady: boolean;
  };
  /** Once a second from start(): probes completed, queue, in flight, worst job lag, event-loop delay max, CPU ms. */
  timeline?: TimelinePoint[];
  /** Snapshots published from createHealthmesh() to the end of the window (includes the initial ones). */
  edsPushesTotal?: number;
  endpointHealth?: Record<string, number>;
  memory?: {
    gc: boolean;
    rssBase: number;
    heapBase: number;
    rssRunning: number;
    heapRunning: number;
    externalRunning: number;
    rssPerEndpoint: number;
    heapPerEndpoint: number;
    targetRss: number;
  };
}

function buildConfig(s: ScaleScenario, targets: Target[]): unknown {
  const clusters: Array<{ name: string; healthCheck: unknown; endpoints: Array<{ address: string; port: number }> }> = [];
  for (let i = 0; i < targets.length; i += s.endpointsPerCluster) {
    clusters.push({
      name: `scale-c${clusters.length}`,
      healthCheck: {
        check: s.check === 'http' ? { http: { path: '/healthz' } } : { tcp: {} },
        intervalMs: s.intervalMs,
        timeoutMs: s.timeoutMs,
        jitterPercent: s.jitterPercent,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
      endpoints: targets.slice(i, i + s.endpointsPerCluster).map((t) => ({ address: t.address, port: t.port })),
    });
  }
  return {
    xds: { listen: '127.0.0.1:0' },
    log: { level: 'silent' },
    health: { probeConcurrency: s.probeConcurrency, tickMs: s.tickMs },
    clusters,
  };
}

export async function runScaleScenario(s: ScaleScenario, log: (msg: string) => void): Promise<ScaleResult> {
  const tag = `health-scale: ${s.check} N=${s.endpoints}`;
  const res: ScaleResult = { scenario: s, ok: false, clusters: Math.ceil(s.endpoints / s.endpointsPerCluster), loadAvg: loadavg() };
  const targetsProc = ChildRpc.start(new URL('./health-targets.ts', import.meta.url), { onLog: log });
  let app: ReturnType<typeof createHealthmesh> | undefined;
  try {
    const tb = performance.now();
    const targets = await targetsProc.call<Target[]>('listen', { count: s.endpoints, perAddress: s.portsPerAddress, basePort: s.basePort });
    const bindTargetsMs = performance.now() - tb;
    log(`${tag}: ${targets.length} target sockets listening in a child process (${bindTargetsMs.toFixed(0)} ms)`);

    const mem0 = await settledMemory();
    const tv = performance.now();
    const config = validateConfig({ ...(buildConfig(s, targets) as object), ...BENCH_ISOLATION }, 'bench/sections/health-scale.ts');
    const validateConfigMs = performance.now() - tv;

    // Counters fed by hooks on the app (no changes to src/: instance methods are wrapped).
    let probes = 0;
    let failed = 0;
    let timedOut = 0;
    const failureSamples: Record<string, number> = {};
    let latencies: number[] = [];
    let counting = false;
    let onProbeNs = 0n;
    let onProbeCalls = 0;
    let tickMs: number[] = [];
    let edsPushes = 0;
    let edsResources = 0;
    let edsPushesTotal = 0;
    let allProbes = 0;
    let startFailed = 0;
    const firstProbed = new Set<string>();
    let firstRoundDoneAt: number | undefined;
    let wallMs = NaN;
    let windowRaw:
      | {
          st0: SchedulerStats;
          st1: SchedulerStats;
          runs0: number;
          runs1: number;
          tgt0: TargetStats;
          tgt1: TargetStats;
          cpu: NodeJS.CpuUsage;
          elu: EventLoopUtilization;
          eld: { p50: number; p99: number; max: number };
        }
      | undefined;

    const tc = performance.now();
    app = createHealthmesh(config);
    const createMs = performance.now() - tc;
    const engine = app.engine;
    const origOnProbe = engine.onProbe.bind(engine);
    engine.onProbe = (id, outcome) => {
      const t = process.hrtime.bigint();
      origOnProbe(id, outcome);
      if (counting) {
        onProbeNs += process.hrtime.bigint() - t;
        onProbeCalls++;
      }
    };
    const origTick = engine.tick.bind(engine);
    engine.tick = () => {
      const t = performance.now();
      origTick();
      if (counting) tickMs.push(performance.now() - t);
    };
    app.controlPlane.cache.subscribe((next, previous) => {
      const changed = diffSnapshots(previous, next).changed[TYPE.endpoint]?.length ?? 0;
      if (changed === 0) return;
      edsPushesTotal++;
      if (counting) {
        edsPushes++;
        edsResources += changed;
      }
    });
    app.onProbe((id, o) => {
      allProbes++;
      if (firstRoundDoneAt === undefined) firstProbed.add(id);
      if (!counting) {
        if (!o.ok) startFailed++;
        return;
      }
      probes++;
      latencies.push(o.latencyMs);
      if (!o.ok) {
        failed++;
        if (o.timedOut) timedOut++;
        const k = o.detail.slice(0, 80);
        if (Object.keys(failureSamples).length < 20 || failureSamples[k] !== undefined) failureSamples[k] = (failureSamples[k] ?? 0) + 1;
      }
    });

    const sched = app.scheduler;
    const ids = config.clusters.flatMap((c) => c.endpoints.map((e) => endpointKey(c.name, e.address, e.port)));
    const jobRuns = (): number => ids.reduce((n, id) => n + (sched.jobStats(id)?.runs ?? 0), 0);

    // Samplers run from start(): the first round (a new connection per endpoint for HTTP) is reported separately.
    let phase: 'start' | 'window' = 'start';
    let t0 = wallNow();
    let maxQueued = 0;
    let maxInFlight = 0;
    let lastBacklogAt = t0;
    let startPeakQueued = 0;
    const sampler = setInterval(() => {
      const x = sched.stats();
      if (x.queued > 0) lastBacklogAt = wallNow();
      if (phase === 'start') startPeakQueued = Math.max(startPeakQueued, x.queued);
      else {
        maxQueued = Math.max(maxQueued, x.queued);
        maxInFlight = Math.max(maxInFlight, x.inFlight);
      }
    }, 100);
    const timeline: TimelinePoint[] = [];
    const lagSamples: number[] = [];
    const runsAtWindow: number[] = [];
    let lastProbes = 0;
    let lastCpu = process.cpuUsage();
    const eldSecond = monitorEventLoopDelay({ resolution: 10 });
    eldSecond.enable();
    const secondly = setInterval(() => {
      let maxLag = 0;
      ids.forEach((id, i) => {
        const j = sched.jobStats(id);
        if (!j || j.runs === 0) return;
        // In the window, only runs started in the window count (a job's lastLagMs may still be from the first round).
        if (phase === 'window' && j.runs > (runsAtWindow[i] ?? Infinity)) lagSamples.push(j.lastLagMs);
        maxLag = Math.max(maxLag, j.lastLagMs);
      });
      const x = sched.stats();
      const c = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      timeline.push({
        phase,
        t: Math.round(wallNow() - t0),
        probes: allProbes - lastProbes,
        queued: x.queued,
        inFlight: x.inFlight,
        maxLastLagMs: Math.round(maxLag),
        eldMaxMs: Math.round(eldSecond.max / 1e6),
        cpuMs: Math.round((c.user + c.system) / 1000),
      });
      eldSecond.reset();
      lastProbes = allProbes;
      if (s.verbose) log(`${tag}: ${JSON.stringify(timeline[timeline.length - 1])}`);
    }, 1000);

    try {
      const ts = performance.now();
      const startCpu = process.cpuUsage();
      t0 = wallNow();
      lastBacklogAt = t0;
      await app.start();
      const startMs = performance.now() - ts;
      res.startup = { bindTargetsMs, validateConfigMs, createMs, startMs };
      log(
        `${tag}: healthmesh started (validate ${validateConfigMs.toFixed(0)} ms, create ${createMs.toFixed(0)} ms, start ${startMs.toFixed(0)} ms); warming up until the probe queue has been empty for one interval`,
      );

      // Warm-up: until every endpoint was probed once and the queue stayed empty for a whole interval.
      let firstRoundCpu: NodeJS.CpuUsage | undefined;
      for (;;) {
        await sleep(100);
        const now = wallNow();
        if (firstRoundDoneAt === undefined && firstProbed.size >= ids.length) firstRoundDoneAt = now;
        if (!firstRoundCpu && now - t0 >= s.intervalMs) firstRoundCpu = process.cpuUsage(startCpu);
        const steady = firstRoundDoneAt !== undefined && now - t0 >= s.minWarmupMs && now - lastBacklogAt >= s.intervalMs;
        if (steady || now - t0 >= s.maxWarmupMs) break;
      }
      const warm = sched.stats();
      const cpuFirst = firstRoundCpu ?? process.cpuUsage(startCpu);
      res.firstRound = {
        allProbedOnceAfterMs: firstRoundDoneAt === undefined ? NaN : firstRoundDoneAt - t0,
        peakQueued: startPeakQueued,
        backlogClearedAfterMs: lastBacklogAt - t0,
        maxLagMs: warm.maxLagMs,
        lateRuns: warm.lateRuns,
        skipped: warm.skipped,
        failed: startFailed,
        cpuPercentOfCoreFirstInterval: (100 * ((cpuFirst.user + cpuFirst.system) / 1000)) / s.intervalMs,
        warmupMs: wallNow() - t0,
        steady: wallNow() - lastBacklogAt >= s.intervalMs,
      };
      log(
        `${tag}: warm-up done after ${(res.firstRound.warmupMs / 1000).toFixed(1)} s (peak queue ${startPeakQueued}, max lag ${warm.maxLagMs.toFixed(0)} ms); measuring ${s.measureMs} ms`,
      );

      // ---- measurement window
      const eld = monitorEventLoopDelay({ resolution: 10 });
      const st0 = sched.stats();
      const runs0 = jobRuns();
      ids.forEach((id, i) => (runsAtWindow[i] = sched.jobStats(id)?.runs ?? 0));
      const tgt0 = await targetsProc.call<TargetStats>('stats');
      latencies = [];
      tickMs = [];
      phase = 'window';
      counting = true;
      const cpu0 = process.cpuUsage();
      const elu0 = performance.eventLoopUtilization();
      const w0 = wallNow();
      eld.enable();
      await sleep(s.measureMs);
      counting = false;
      wallMs = wallNow() - w0;
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      eld.disable();
      const st1 = sched.stats();
      const runs1 = jobRuns();
      const tgt1 = await targetsProc.call<TargetStats>('stats');
      res.loadAvgEnd = loadavg();
      log(`${tag}: window done: ${probes} probes in ${(wallMs / 1000).toFixed(1)} s`);
      windowRaw = { st0, st1, runs0, runs1, tgt0, tgt1, cpu, elu, eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 } };
    } finally {
      clearInterval(sampler);
      clearInterval(secondly);
      eldSecond.disable();
    }
    const { st0, st1, runs0, runs1, tgt0, tgt1, cpu, elu } = windowRaw!;

    const core = (ms: number): number => (100 * ms) / wallMs;
    const totalTick = tickMs.reduce((a, b) => a + b, 0);
    const health: Record<string, number> = {};
    for (const e of engine.endpoints()) health[`${e.decision.health}/${e.decision.circuit}`] = (health[`${e.decision.health}/${e.decision.circuit}`] ?? 0) + 1;
    res.endpointHealth = health;
    res.window = {
      ms: wallMs,
      probes,
      probesPerSec: (probes * 1000) / wallMs,
      expectedPerSec: (s.endpoints * 1000) / s.intervalMs,
      failed,
      timedOut,
      failureSamples,
      probeLatencyMs: dist(latencies),
      lateRuns: st1.lateRuns - st0.lateRuns,
      runsStarted: runs1 - runs0,
      skipped: st1.skipped - st0.skipped,
      maxLagMsAllTime: st1.maxLagMs,
      lagSampleMs: dist(lagSamples),
      perJobMaxLagMs: dist(ids.map((id) => sched.jobStats(id)?.maxLagMs ?? NaN)),
      maxQueued,
      maxInFlight,
      cpuMs: (cpu.user + cpu.system) / 1000,
      cpuPercentOfCore: core((cpu.user + cpu.system) / 1000),
      userPercentOfCore: core(cpu.user / 1000),
      systemPercentOfCore: core(cpu.system / 1000),
      eventLoopUtilization: elu.utilization,
      eventLoopDelayMs: windowRaw!.eld,
      targetCpuPercentOfCore: core(tgt1.cpuMs - tgt0.cpuMs),
      targetRequests: tgt1.requests - tgt0.requests,
      targetConnections: tgt1.connections - tgt0.connections,
      targetOpenSockets: tgt1.openSockets,
      engineOnProbeUsPerProbe: onProbeCalls ? Number(onProbeNs) / 1000 / onProbeCalls : NaN,
      engineOnProbeMsTotal: Number(onProbeNs) / 1e6,
      engineTickMs: dist(tickMs),
      engineTickCount: tickMs.length,
      engineTickPercentOfCore: core(totalTick),
      edsPushes,
      edsResourcesChanged: edsResources,
    };
    res.timeline = timeline;
    res.edsPushesTotal = edsPushesTotal;

    // Memory with everything still running (jobs, engine state, keep-alive connections), after a full GC.
    const mem1 = await settledMemory();
    res.memory = {
      gc: gcAvailable,
      rssBase: mem0.rss,
      heapBase: mem0.heapUsed,
      rssRunning: mem1.rss,
      heapRunning: mem1.heapUsed,
      externalRunning: mem1.external,
      rssPerEndpoint: (mem1.rss - mem0.rss) / s.endpoints,
      heapPerEndpoint: (mem1.heapUsed - mem0.heapUsed) / s.endpoints,
      targetRss: tgt1.rss,
    };
    res.ok = failed === 0 && res.window.probesPerSec >= 0.95 * res.window.expectedPerSec;
    if (!res.ok)
      res.error = failed
        ? `${failed} probes failed`
        : `probe rate ${res.window.probesPerSec.toFixed(0)}/s below 95% of ${res.window.expectedPerSec.toFixed(0)}/s`;
    return res;
  } finally {
    await app?.stop();
    await targetsProc.close();
  }
}

// ---- child-process entry

if (isMain(import.meta.url) && process.send) {
  const send = (m: unknown): void => {
    process.send?.(m);
  };
  process.on('disconnect', () => process.exit(1));
  process.once('message', (m: { scenario: ScaleScenario }) => {
    runScaleScenario(m.scenario, (msg) => send({ log: msg }))
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
