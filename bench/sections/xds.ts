/**
 * xDS section: ADS fan-out of the control plane, SotW vs Delta.
 *
 * Per (mode, N), in a fresh server process (bench/sections/xds-scenario.ts): a control plane created in-process
 * with createControlPlane(), serving 1 listener, 1 route configuration and 10 clusters × 10 endpoints; N
 * Envoy-like ADS streams from a forked load-client process; then one-endpoint changes through
 * `topology.setEndpoint`, each timed from the API call until every stream has an EDS response reflecting it.
 * Latencies include the configured push debounce (xds.debounceMs).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Mode } from '../ads-load.js';
import { fmtBytes, fmtMs, fmtNum, hostInfo, table } from '../lib/stats.js';
import type { Section, SectionContext, SectionResult } from './types.js';
import { CLUSTERS, ENDPOINTS_PER_CLUSTER, type ScenarioResult, type Settings } from './xds-scenario.js';

function settingsFrom(ctx: SectionContext): Settings {
  const o = ctx.options;
  const list = (s: string | undefined): number[] | undefined =>
    s
      ?.split(',')
      .map((x) => Number(x.trim()))
      .filter((x) => Number.isInteger(x) && x > 0);
  const modes = (o.modes?.split(',').map((m) => m.trim()) ?? ['sotw', 'delta']).filter((m): m is Mode => m === 'sotw' || m === 'delta');
  const debounceMs = o.debounceMs !== undefined ? Number(o.debounceMs) : 50;
  return {
    modes: modes.length ? modes : ['sotw', 'delta'],
    streams: list(o.streams) ?? (ctx.quick ? [50] : [100, 1000]),
    changes: o.changes !== undefined ? Number(o.changes) : 20,
    warmupStreams: 10,
    debounceMs,
    streamsPerChannel: 100,
    settleMs: Math.max(150, 2 * debounceMs),
    changeTimeoutMs: 10_000,
    openTimeoutMs: 60_000,
  };
}

/** Run one scenario in a fresh `node --expose-gc --import tsx` process. */
function runScenarioInChild(mode: Mode, n: number, s: Settings, ctx: SectionContext): Promise<ScenarioResult> {
  const file = fileURLToPath(new URL('./xds-scenario.ts', import.meta.url));
  const child = fork(file, [], {
    execArgv: ['--expose-gc', '--import', import.meta.resolve('tsx')],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: ScenarioResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const failed = (error: string): ScenarioResult => ({ mode, streams: n, channels: Math.ceil(n / s.streamsPerChannel), ok: false, error });
    child.on('message', (m: { log?: string; result?: ScenarioResult; error?: string }) => {
      if (m.log !== undefined) ctx.log(m.log);
      if (m.result) finish(m.result);
      if (m.error !== undefined) {
        ctx.log(`xds: ${mode} N=${n}: error: ${m.error}`);
        finish(failed(m.error.split('\n')[0] ?? m.error));
      }
    });
    child.on('exit', (code, signal) => finish(failed(`scenario process exited (code ${code}, signal ${signal}) without a result`)));
    child.send({ mode, n, settings: s });
  });
}

function render(results: ScenarioResult[], s: Settings, clientDesc: string): string {
  const ns = [...new Set(results.map((r) => r.streams))];
  const modes = s.modes;
  const find = (n: number, m: Mode): ScenarioResult | undefined => results.find((r) => r.streams === n && r.mode === m);
  const label = (m: Mode): string => (m === 'sotw' ? 'SotW' : 'Delta');
  const header1 = ['', ...ns.flatMap((n) => modes.map((_, i) => (i === 0 ? `N=${n}` : '')))];
  const header2 = ['metric', ...ns.flatMap(() => modes.map(label))];
  const row = (name: string, f: (r: ScenarioResult) => string): string[] => [
    name,
    ...ns.flatMap((n) =>
      modes.map((m) => {
        const r = find(n, m);
        return r ? f(r) : '—';
      }),
    ),
  ];
  const pair = (a: number | undefined, b: number | undefined, fmt: (v: number | undefined) => string): string => `${fmt(a)} / ${fmt(b)}`;
  const rows: Array<string[] | null> = [
    row('streams synced', (r) => `${r.initialSync?.summary.synced ?? 0}/${r.streams}${r.ok ? '' : ' !'}`),
    row('grpc channels (connections)', (r) => String(r.channels)),
    row('initial sync, all streams (ms)', (r) => fmtMs(r.initialSync?.allMs)),
    row('initial sync per stream p50 / p99 (ms)', (r) => pair(r.initialSync?.perStreamMs.p50, r.initialSync?.perStreamMs.p99, fmtMs)),
    row('initial sync bytes per stream', (r) => fmtBytes(r.initialSync?.bytesPerStream)),
    row('server CPU for initial sync (ms)', (r) => fmtMs(r.initialSync?.serverCpuMs)),
    row('load client CPU for initial sync (ms)', (r) => fmtMs(r.initialSync?.clientCpuMs)),
    null,
    row('changes delivered to all streams', (r) => (r.changes ? `${r.changes.deliveredToAll}/${r.changes.attempted}` : '—')),
    row('change → all streams p50 (ms)', (r) => fmtMs(r.changes?.allStreamsMs.p50)),
    row('change → all streams p99 (ms)', (r) => fmtMs(r.changes?.allStreamsMs.p99)),
    row('per-stream latency p50 (ms)', (r) => fmtMs(r.changes?.perStreamMs.p50)),
    row('per-stream latency p99 (ms)', (r) => fmtMs(r.changes?.perStreamMs.p99)),
    row('  call → publish done p50 (ms) ¹', (r) => fmtMs(r.changes?.publishMs.p50)),
    row('  publish done → all streams p50 (ms)', (r) => fmtMs(r.changes?.fanoutMs.p50)),
    row('server publish → EDS ACK p50 (ms)', (r) => fmtMs(r.changes?.publishToAckMs.p50)),
    row('bytes per change, all streams', (r) => fmtBytes(r.changes?.bytesPerChange.mean)),
    row('bytes per change per stream', (r) => fmtBytes(r.changes?.bytesPerChangePerStream)),
    row('responses per change, all streams', (r) => fmtNum(r.changes?.responsesPerChange.mean, 1)),
    row('server CPU per change p50 (ms)', (r) => fmtMs(r.changes?.serverCpuMsPerChange.p50)),
    row('load client CPU per change p50 (ms)', (r) => fmtMs(r.changes?.clientCpuMsPerChange.p50)),
    null,
    row('server RSS per stream', (r) => fmtBytes(r.memory?.rssPerStream)),
    row('server heap per stream', (r) => fmtBytes(r.memory?.heapPerStream)),
    row('server heap used, streams open', (r) => fmtBytes(r.memory?.heapUsedAfter)),
    row('server RSS, streams open', (r) => fmtBytes(r.memory?.rssAfter)),
    row('load client RSS', (r) => fmtBytes(r.memory?.clientRss)),
    row('ledger: all types ACKed / NACKs', (r) =>
      (r.ledgerAfter ?? r.ledger) ? `${(r.ledgerAfter ?? r.ledger)!.allTypesAcked} / ${(r.ledgerAfter ?? r.ledger)!.nackedTypes}` : '—',
    ),
  ];
  const title =
    `xDS fan-out: 1 listener, 1 route config, ${CLUSTERS} clusters × ${ENDPOINTS_PER_CLUSTER} endpoints; ${s.changes} one-endpoint changes (weight/health toggles)\n` +
    `debounce ${s.debounceMs} ms (included in change latencies); load client: ${clientDesc}; ${s.streamsPerChannel} streams per channel; ${s.warmupStreams} warm-up streams first\n` +
    `bytes = serialized response messages received; p99 over ${s.changes} changes is nearest-rank (= max); server memory measured in a fresh process per scenario after ${results.every((r) => r.memory?.gc !== false) ? 'forced GC' : 'NO forced GC'}`;
  const lines = [
    title,
    '',
    table([header1, header2], rows),
    "¹ setEndpoint() → topology.flushed(): the debounce plus the server's synchronous snapshot build and push to every stream.",
  ];
  for (const r of results) {
    if (r.error) lines.push('', `!! ${label(r.mode)} N=${r.streams}: ${r.error}`);
    for (const f of r.changes?.failures ?? [])
      lines.push(`!! ${label(r.mode)} N=${r.streams}: change ${f.change} missed by ${f.missing} streams (details in JSON)`);
    if (r.ledgerAfter?.nackedTypes)
      lines.push(`!! ${label(r.mode)} N=${r.streams}: ${r.ledgerAfter.nackedTypes} NACKed types, e.g. ${JSON.stringify(r.ledgerAfter.sampleNack)}`);
    if (r.streamEnds && Object.keys(r.streamEnds).length) lines.push(`!! ${label(r.mode)} N=${r.streams}: streams ended: ${JSON.stringify(r.streamEnds)}`);
  }
  return lines.join('\n');
}

export const xdsSection: Section = {
  name: 'xds',
  description: 'ADS fan-out: initial sync, endpoint-change propagation, bytes and memory per stream, SotW vs Delta',
  async run(ctx: SectionContext): Promise<SectionResult> {
    const s = settingsFrom(ctx);
    const results: ScenarioResult[] = [];
    const startedAt = new Date();
    const clientDesc = 'forked child process (server: a fresh process per scenario)';
    for (const n of s.streams) {
      for (const mode of s.modes) {
        results.push(await runScenarioInChild(mode, n, s, ctx));
      }
    }
    return {
      ok: results.every((r) => r.ok),
      table: render(results, s, clientDesc),
      data: {
        section: 'xds',
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        host: hostInfo(),
        loadClient: clientDesc,
        settings: {
          ...s,
          clusters: CLUSTERS,
          endpointsPerCluster: ENDPOINTS_PER_CLUSTER,
          listeners: 1,
          routeConfigs: 1,
          gcForced: results.every((r) => r.memory?.gc !== false),
        },
        notes: [
          'Latencies are from the topology.setEndpoint() call (server process clock) to the response arrival in the load-client process (its clock, corrected by an IPC-measured offset).',
          'Bytes are serialized DiscoveryResponse/DeltaDiscoveryResponse message sizes as received (no gRPC/HTTP2 framing).',
          'p50/p99 are nearest-rank; over 20 changes p99 equals the maximum.',
          'RSS per stream = (RSS with streams open − RSS before) / N in the server process; earlier scenarios in the same process can make RSS deltas under-count.',
        ],
        scenarios: results,
      },
    };
  },
};
