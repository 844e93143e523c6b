/**
 * health-scale section: can healthmesh's probe scheduler keep 5,000 endpoints on a 5 s interval (1,000 probes/s) on
 * a small machine, and what does that cost?
 *
 * Per scenario (HTTP check, then TCP check), in a fresh process (health-scale-scenario.ts): N real listening sockets
 * on 127.77.x.y in a forked target process, healthmesh created in-process with N endpoints in N/100 clusters, a
 * warm-up of one interval, then a measured window: probes/s vs expected, scheduler lag, CPU of healthmesh and of the
 * targets, engine work (onProbe, periodic tick), EDS pushes; then RSS/heap per endpoint after a full GC.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmtBytes, fmtMs, fmtNum, hostInfo, table } from '../lib/stats.js';
import type { ScaleResult, ScaleScenario } from './health-scale-scenario.js';
import type { Section, SectionContext, SectionResult } from './types.js';

function scenarios(quick: boolean): ScaleScenario[] {
  const base = {
    endpointsPerCluster: 100,
    intervalMs: 5000,
    timeoutMs: 1000,
    jitterPercent: 10,
    probeConcurrency: 256,
    tickMs: 250,
    portsPerAddress: 100,
    basePort: 30000,
  };
  // Warm-up: at least one interval, until every endpoint was probed and the queue stayed empty for an interval.
  if (quick) return [{ ...base, check: 'http', endpoints: 1000, minWarmupMs: 5000, maxWarmupMs: 10_000, measureMs: 8000 }];
  return [
    { ...base, check: 'http', endpoints: 5000, minWarmupMs: 5000, maxWarmupMs: 15_000, measureMs: 30_000 },
    { ...base, check: 'tcp', endpoints: 5000, minWarmupMs: 5000, maxWarmupMs: 10_000, measureMs: 15_000 },
  ];
}

function runInChild(s: ScaleScenario, ctx: SectionContext): Promise<ScaleResult> {
  const file = fileURLToPath(new URL('./health-scale-scenario.ts', import.meta.url));
  const child = fork(file, [], {
    execArgv: ['--expose-gc', '--import', import.meta.resolve('tsx')],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: ScaleResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const failed = (error: string): ScaleResult => ({ scenario: s, ok: false, error, clusters: Math.ceil(s.endpoints / s.endpointsPerCluster) });
    child.on('message', (m: { log?: string; result?: ScaleResult; error?: string }) => {
      if (m.log !== undefined) ctx.log(m.log);
      if (m.result) finish(m.result);
      if (m.error !== undefined) {
        ctx.log(`health-scale: ${s.check} N=${s.endpoints}: error: ${m.error}`);
        finish(failed(m.error.split('\n')[0] ?? m.error));
      }
    });
    child.on('exit', (code, signal) => finish(failed(`scenario process exited (code ${code}, signal ${signal}) without a result`)));
    child.send({ scenario: s });
  });
}

const pct = (v: number | undefined, digits = 1): string => (v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(digits)} %`);

function render(results: ScaleResult[]): string {
  const col = (r: ScaleResult): string => `${r.scenario.check.toUpperCase()} N=${r.scenario.endpoints}`;
  const row = (name: string, f: (r: ScaleResult) => string): string[] => [name, ...results.map((r) => (r.window || r.memory || r.startup ? f(r) : '—'))];
  const w = (r: ScaleResult): NonNullable<ScaleResult['window']> | undefined => r.window;
  const rows: Array<string[] | null> = [
    row('endpoints / clusters', (r) => `${r.scenario.endpoints} / ${r.clusters}`),
    row('host load average (1 min) at start', (r) => fmtNum(r.loadAvg?.[0], 2)),
    null,
    row('first round: every endpoint probed after (s)', (r) => fmtNum((r.firstRound?.allProbedOnceAfterMs ?? NaN) / 1000, 1)),
    row('first round: peak queue / max lag (ms)', (r) => `${r.firstRound?.peakQueued ?? '—'} / ${fmtMs(r.firstRound?.maxLagMs)}`),
    row('first round: late runs / skipped', (r) => `${r.firstRound?.lateRuns ?? '—'} / ${r.firstRound?.skipped ?? '—'}`),
    row('first round: backlog cleared after (s)', (r) => fmtNum((r.firstRound?.backlogClearedAfterMs ?? NaN) / 1000, 1)),
    row('first round: CPU in 1st interval, % of core', (r) => pct(r.firstRound?.cpuPercentOfCoreFirstInterval)),
    row(
      'warm-up (s), then window (s) ¹',
      (r) =>
        `${fmtNum((r.firstRound?.warmupMs ?? NaN) / 1000, 1)}${r.firstRound && !r.firstRound.steady ? ' (not steady!)' : ''}, ${fmtNum((w(r)?.ms ?? NaN) / 1000, 1)}`,
    ),
    null,
    row('window: probes/s achieved / expected', (r) => `${fmtNum(w(r)?.probesPerSec)} / ${fmtNum(w(r)?.expectedPerSec)}`),
    row('window: probes failed (timed out)', (r) => `${w(r)?.failed ?? '—'} (${w(r)?.timedOut ?? '—'})`),
    row(
      'window: probe latency p50 / p99 / max (ms)',
      (r) => `${fmtMs(w(r)?.probeLatencyMs.p50)} / ${fmtMs(w(r)?.probeLatencyMs.p99)} / ${fmtMs(w(r)?.probeLatencyMs.max)}`,
    ),
    row(
      'window: scheduler lag p50 / p99 / max (ms) ²',
      (r) => `${fmtMs(w(r)?.lagSampleMs.p50)} / ${fmtMs(w(r)?.lagSampleMs.p99)} / ${fmtMs(w(r)?.lagSampleMs.max)}`,
    ),
    row('window: late runs (lag > 10% of interval)', (r) =>
      w(r) ? `${w(r)!.lateRuns} of ${w(r)!.runsStarted} (${pct((100 * w(r)!.lateRuns) / Math.max(1, w(r)!.runsStarted), 2)})` : '—',
    ),
    row('window: skipped (previous run still busy)', (r) => String(w(r)?.skipped ?? '—')),
    row('window: max queued / max in flight', (r) => `${w(r)?.maxQueued ?? '—'} / ${w(r)?.maxInFlight ?? '—'}`),
    null,
    row('healthmesh CPU, % of one core', (r) => pct(w(r)?.cpuPercentOfCore)),
    row('  user / system', (r) => `${pct(w(r)?.userPercentOfCore)} / ${pct(w(r)?.systemPercentOfCore)}`),
    row('  CPU per probe (µs)', (r) => fmtNum(w(r) ? (w(r)!.cpuMs * 1000) / Math.max(1, w(r)!.probes) : NaN)),
    row('event loop utilization', (r) => pct((w(r)?.eventLoopUtilization ?? NaN) * 100)),
    row('event loop delay p99 / max (ms)', (r) => `${fmtMs(w(r)?.eventLoopDelayMs.p99)} / ${fmtMs(w(r)?.eventLoopDelayMs.max)}`),
    row('targets CPU (child process), % of one core', (r) => pct(w(r)?.targetCpuPercentOfCore)),
    row('targets: requests / new connections', (r) => `${w(r)?.targetRequests ?? '—'} / ${w(r)?.targetConnections ?? '—'}`),
    null,
    row('engine.onProbe per probe (µs)', (r) => fmtNum(w(r)?.engineOnProbeUsPerProbe, 1)),
    row('engine.tick() p50 / max (ms) ³', (r) => `${fmtMs(w(r)?.engineTickMs.p50)} / ${fmtMs(w(r)?.engineTickMs.max)}`),
    row('engine ticks, % of one core', (r) => `${pct(w(r)?.engineTickPercentOfCore, 2)} (${w(r)?.engineTickCount ?? '—'} ticks)`),
    row('EDS pushes in window / since create ⁴', (r) => `${w(r)?.edsPushes ?? '—'} / ${r.edsPushesTotal ?? '—'}`),
    row(
      'endpoints at the end',
      (r) =>
        Object.entries(r.endpointHealth ?? {})
          .map(([k, v]) => `${v} ${k}`)
          .join(', ') || '—',
    ),
    null,
    row('RSS per endpoint (after GC, − baseline)', (r) => fmtBytes(r.memory?.rssPerEndpoint)),
    row('heap per endpoint (after GC, − baseline)', (r) => fmtBytes(r.memory?.heapPerEndpoint)),
    row('healthmesh RSS / heap used, running', (r) => `${fmtBytes(r.memory?.rssRunning)} / ${fmtBytes(r.memory?.heapRunning)}`),
    row('targets RSS', (r) => fmtBytes(r.memory?.targetRss)),
    null,
    row(
      'startup: validateConfig / create / start (ms)',
      (r) => `${fmtMs(r.startup?.validateConfigMs)} / ${fmtMs(r.startup?.createMs)} / ${fmtMs(r.startup?.startMs)}`,
    ),
  ];
  const s0 = results[0]?.scenario;
  const lines = [
    `Probe scheduling at scale: every endpoint a real socket on 127.77.x.y served by a separate target process; interval ${s0?.intervalMs} ms ± ${s0?.jitterPercent}% jitter, ` +
      `timeout ${s0?.timeoutMs} ms, probeConcurrency ${s0?.probeConcurrency}, engine tickMs ${s0?.tickMs}; ${s0?.endpointsPerCluster} endpoints per cluster; no Envoy connected`,
    'each scenario in a fresh process; "first round" = from start() until the probe queue stayed empty for one interval; window figures are steady state after it; CPU % = CPU time / wall time',
    '',
    table([['metric', ...results.map(col)]], rows),
    '¹ warm-up ends when every endpoint was probed and the queue stayed empty for one interval (bounded; "not steady" if the bound hit first).',
    "² every job's most recent start − due time, sampled once a second over the window (runs started in the window only) and pooled.",
    "³ the engine's periodic full pass over every endpoint (every tickMs); timed by wrapping engine.tick.",
    "⁴ snapshots whose EDS resources changed; the ones at create/start publish the engine's initial weights.",
  ];
  for (const r of results) if (r.error) lines.push(`!! ${col(r)}: ${r.error}`);
  return lines.join('\n');
}

export const healthScaleSection: Section = {
  name: 'health-scale',
  description: 'probe scheduling for 5,000 endpoints at 5 s (HTTP and TCP checks): rate, lag, CPU, memory per endpoint',
  async run(ctx: SectionContext): Promise<SectionResult> {
    const startedAt = new Date();
    const results: ScaleResult[] = [];
    for (const s of scenarios(ctx.quick)) results.push(await runInChild(s, ctx));
    return {
      ok: results.every((r) => r.ok),
      table: render(results),
      data: {
        section: 'health-scale',
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        host: hostInfo(),
        notes: [
          'healthmesh runs in a fresh process per scenario; the targets in a forked child of it (their CPU is reported separately).',
          'probes/s = completed probes in the window / window length; expected = endpoints / interval.',
          "lagSampleMs pools every job's lastLagMs sampled once a second (runs started in the window only); perJobMaxLagMs is each job's max lag since start.",
          'memory per endpoint = (RSS or heapUsed with everything running − before the config was built) / endpoints, both after a forced GC; it includes keep-alive connections of HTTP checks.',
        ],
        scenarios: results,
      },
    };
  },
};
