/**
 * idle section: what `healthmesh serve` costs when nothing happens.
 *
 * - **RSS at start**: `node bin/healthmesh.js serve` on examples/healthmesh.yaml (listen ports set to
 *   127.0.0.1:0, the store in a temporary directory; its backends are not running, so its checks
 *   fail, as on a fresh machine), `ps -o rss` 3 s after "healthmesh started", before any stream.
 * - **idle CPU at N streams**: the same CLI on a bench config (one cluster of 10 endpoints without
 *   health checks, debounce 0, in-memory store), N SotW streams from the load client (forked, 100 per
 *   connection) that sync and then stay quiet; after a settle period the server's CPU (all threads,
 *   /proc/<pid>/task/<tid>/schedstat, ns) over a 10 s window (quick: 5 s), in ms per second.
 *
 * Linux only (procfs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { RemoteLoadClient } from '../ads-load-remote.js';
import { hostInfo, sleep, table } from '../lib/stats.js';
import type { Section, SectionContext, SectionResult } from './types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'bench-token-0123456789abcdef0123';
const ROUTE_NAME = 'local_route';

interface Server {
  child: ChildProcess;
  xdsPort: number;
  stop(): Promise<void>;
}

/** Starts `node bin/healthmesh.js serve -c <file>` and waits for its "healthmesh started" log line. */
async function serve(configFile: string, timeoutMs = 60_000): Promise<Server> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/healthmesh.js'), 'serve', '-c', configFile], {
    cwd: ROOT,
    env: { ...process.env, HEALTHMESH_ADMIN_TOKEN: TOKEN, HEALTHMESH_LOG_PRETTY: '0', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const xdsPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`healthmesh serve did not start within ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      for (const line of out.split('\n')) {
        if (!line.includes('"healthmesh started"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { xdsPort: number }).xdsPort);
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`healthmesh serve exited (${code}):\n${out.slice(-2000)}`));
    });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    child,
    xdsPort,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** CPU time of every thread of `pid`, ns (schedstat's first field). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return ns;
}

function exampleConfig(dir: string): string {
  const c = parse(readFileSync(join(ROOT, 'examples/healthmesh.yaml'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
  c.xds = { ...c.xds, listen: '127.0.0.1:0' };
  if (c.admin) c.admin = { ...c.admin, listen: '127.0.0.1:0' };
  if (c.status?.listen) c.status = { ...c.status, listen: '127.0.0.1:0' };
  c.store = { ...c.store, path: join(dir, 'healthmesh.db') };
  c.log = { ...c.log, level: 'info' };
  const file = join(dir, 'example.yaml');
  writeFileSync(file, stringify(c));
  return file;
}

function idleConfig(dir: string): string {
  const file = join(dir, 'idle.yaml');
  const config = {
    xds: { listen: '127.0.0.1:0', debounceMs: 0 },
    log: { level: 'info' },
    store: { path: ':memory:' },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    listeners: [{ name: 'bench-listener', kind: 'tcp', address: '127.0.0.1', port: 10000, routeConfig: ROUTE_NAME }],
    routes: [{ name: ROUTE_NAME, virtualHosts: [{ name: 'bench', domains: ['*'], routes: [{ prefix: '/', cluster: 'bench' }] }] }],
    clusters: [{ name: 'bench', endpoints: Array.from({ length: 10 }, (_, i) => ({ address: '127.0.0.1', port: 20000 + i })) }],
  };
  writeFileSync(file, stringify(config));
  return file;
}

interface IdleRow {
  streams: number;
  synced: boolean;
  windowS: number;
  cpuMsPerS: number;
  rssMiB: number;
}

async function idleAt(n: number, configFile: string, windowMs: number, ctx: SectionContext): Promise<IdleRow> {
  const server = await serve(configFile);
  const pid = server.child.pid!;
  const client = n > 0 ? await RemoteLoadClient.start() : undefined;
  try {
    let synced = true;
    if (client) {
      const open = await client.open(
        { address: `127.0.0.1:${server.xdsPort}`, mode: 'sotw', streams: n, streamsPerChannel: 100, routeNames: [ROUTE_NAME] },
        120_000,
      );
      synced = open.ok;
      if (!open.ok) ctx.log(`idle: N=${n}: streams did not sync: ${open.error}`);
    }
    await sleep(3000);
    const cpu0 = cpuNs(pid);
    const t0 = performance.now();
    await sleep(windowMs);
    const cpu = (cpuNs(pid) - cpu0) / 1e6;
    const s = (performance.now() - t0) / 1000;
    return { streams: n, synced, windowS: s, cpuMsPerS: cpu / s, rssMiB: rssKiB(pid) / 1024 };
  } finally {
    await client?.close();
    await server.stop();
  }
}

async function run(ctx: SectionContext): Promise<SectionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-bench-idle-'));
  try {
    ctx.log('idle: RSS of healthmesh serve on examples/healthmesh.yaml');
    const example = await serve(exampleConfig(dir));
    await sleep(3000);
    const startRssMiB = rssKiB(example.child.pid!) / 1024;
    await example.stop();

    const counts = ctx.options.streams?.split(',').map(Number) ?? (ctx.quick ? [1, 100] : [1, 1000]);
    const windowMs = ctx.quick ? 5000 : 10_000;
    const rows: IdleRow[] = [];
    const cfg = idleConfig(dir);
    for (const n of counts) {
      ctx.log(`idle: N=${n}: serve, open ${n} streams, then ${windowMs / 1000} s of nothing`);
      rows.push(await idleAt(n, cfg, windowMs, ctx));
    }
    const text =
      `RSS of \`healthmesh serve\` on examples/healthmesh.yaml 3 s after start, before any stream: ${startRssMiB.toFixed(0)} MiB\n\n` +
      table(
        [['streams (SotW, synced, quiet)', 'idle CPU ms/s (all threads)', 'window s', 'server RSS MiB']],
        rows.map((r) => [`${r.streams}${r.synced ? '' : ' (NOT synced)'}`, r.cpuMsPerS.toFixed(2), r.windowS.toFixed(1), r.rssMiB.toFixed(0)]),
      );
    return { table: text, ok: rows.every((r) => r.synced), data: { host: hostInfo(), startRssMiB, rows } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const idleSection: Section = {
  name: 'idle',
  description: 'healthmesh serve at rest: RSS at start (examples/healthmesh.yaml) and idle CPU with N quiet ADS streams',
  run,
};
